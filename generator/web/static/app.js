// Small helpers for the edit forms. Every figure and message comes from the server's preview
// endpoint, which runs the same core functions as `gaizao validate` and the budget table.
"use strict";
(function () {
  function text(el, value) { el.textContent = value; }

  function catalogueInfo(select) {
    var info = document.querySelector('.catalogue-info[data-for="' + select.id + '"]');
    if (!info) { return; }
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { text(info, ""); return; }
    var standard = option.getAttribute("data-standard");
    text(info, "内容：" + option.getAttribute("data-content") + (standard ? "；标准：" + standard : ""));
  }

  function showMessages(form, result) {
    form.querySelectorAll("ul.messages[data-for]").forEach(function (ul) { ul.innerHTML = ""; });
    var loose = document.getElementById("loose");
    if (loose) { loose.innerHTML = ""; }
    function put(key, severity, message) {
      var ul = form.querySelector('ul.messages[data-for="' + key.replace(/"/g, "") + '"]');
      var li = document.createElement("li");
      li.className = severity;
      text(li, message);
      if (ul) { ul.appendChild(li); } else if (loose) { text(li, (severity === "error" ? "错误：" : "警告：") + message); loose.appendChild(li); }
    }
    Object.keys(result.errors || {}).forEach(function (key) {
      result.errors[key].forEach(function (m) { put(key, "error", m); });
    });
    (result.findings || []).forEach(function (f) { put(f.key, f.severity, f.message); });
  }

  function showSplit(result) {
    // One row of names over one row of amounts: the bar stays in view at the foot of the screen.
    var table = document.getElementById("split");
    if (!table) { return; }
    var body = document.createElement("tbody");
    var names = document.createElement("tr");
    var amounts = document.createElement("tr");
    function cell(row, tag, value, cls) {
      var el = document.createElement(tag); text(el, value);
      if (cls) { el.className = cls; }
      row.appendChild(el);
    }
    var f = result.funding;
    if (!f) {
      cell(names, "td", Object.keys(result.errors || {}).length ? "请先改正标红的内容" : "填写预算项目后显示");
    } else {
      cell(names, "th", "预算总额"); cell(amounts, "td", f.total + "元", "num");
      f.parties.forEach(function (p) { cell(names, "th", p[0]); cell(amounts, "td", p[1] + "元", "num"); });
      cell(names, "th", "居民每户分担"); cell(amounts, "td", f.per_household + "元", "num");
    }
    body.appendChild(names);
    if (amounts.children.length) { body.appendChild(amounts); }
    table.replaceChild(body, table.tBodies[0]);
  }

  function preview(form) {
    var data = new FormData(form);
    return fetch(form.getAttribute("data-preview"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (result) {
      if (result) { showMessages(form, result); showSplit(result); form.setAttribute("data-previewed", "1"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("edit");
    if (!form) { return; }
    var timer = null;
    form.addEventListener("input", function () {
      form.removeAttribute("data-previewed");
      clearTimeout(timer);
      timer = setTimeout(function () { preview(form); }, 250);
    });
    form.addEventListener("change", function (event) {
      if (event.target.classList.contains("catalogue")) { catalogueInfo(event.target); }
      clearTimeout(timer);
      timer = setTimeout(function () { preview(form); }, 100);
    });
    if (form.querySelector("#split")) { preview(form); }
  });
})();
