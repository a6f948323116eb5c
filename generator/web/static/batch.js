// The print jobs page: each unfinished job asks the server where it stands until it is done.
(function () {
  "use strict";
  function text(el, value) { if (el) { el.textContent = value; } }
  function list(ul, items, make) {
    if (!ul) { return; }
    ul.textContent = "";
    items.forEach(function (item) { var li = document.createElement("li"); make(li, item); ul.appendChild(li); });
  }
  function show(row, job) {
    var bar = row.querySelector("progress");
    if (bar) { bar.max = job.total || 1; bar.value = job.done; }
    text(row.querySelector(".phase"), job.phase);
    text(row.querySelector(".count"), job.total ? job.done + "/" + job.total + "份" : "");
    row.dataset.state = job.state;
    var result = row.querySelector(".result");
    if (job.state === "failed" || job.state === "interrupted") {
      var err = result.querySelector(".error") || result.insertBefore(document.createElement("span"), result.firstChild);
      err.className = "error";
      err.textContent = job.error;
    }
    list(result.querySelector(".files"), job.files, function (li, f) {
      var a = document.createElement("a"); a.href = f.url; a.textContent = f.name; li.appendChild(a);
    });
    list(result.querySelector(".skipped"), job.skipped, function (li, s) {
      li.textContent = "未收录" + s.count + "个小区：" + s.reason;
      if (s.names && s.names.length) {
        var names = document.createElement("div"); names.className = "sub names";
        names.textContent = s.names.join("、"); li.appendChild(names);
      }
    });
  }
  function ended(state) { return state === "done" || state === "failed" || state === "interrupted"; }
  function poll(row) {
    if (ended(row.dataset.state)) { return; }
    fetch(row.dataset.status, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) { return; }
        show(row, job);
        if (!ended(job.state)) { window.setTimeout(function () { poll(row); }, 1000); }
      })
      .catch(function () { window.setTimeout(function () { poll(row); }, 3000); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("tr.job").forEach(poll);
  });
})();
