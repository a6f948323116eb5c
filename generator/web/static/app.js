// Small helpers for the edit forms. Every figure and message comes from the server's preview
// endpoint, which runs the same core functions as `gaizao validate` and the budget table
// (金额 = 数量 × 单价 too: worked out in decimals on the server, never in the browser's floats).
"use strict";
(function () {
  function text(el, value) { el.textContent = value; }

  function catalogueInfo(select) {
    var info = document.querySelector('.catalogue-info[data-for="' + select.id + '"]');
    if (!info) { return; }
    var option = select.options[select.selectedIndex];
    if (!option || !option.value) { text(info, ""); select.title = ""; return; }
    var standard = option.getAttribute("data-standard");
    text(info, "内容：" + option.getAttribute("data-content") + (standard ? "；标准：" + standard : ""));
    select.title = info.textContent;  // in the budget table the text is a tooltip: rows stay one line
  }

  // A field's data-model objection (缺少必填字段…) waits until the clerk has left the field (or the
  // server said it on the page): choosing an item does not paint every empty cell of the row red.
  var touched = {};
  var shownAtLoad = {};

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
      if (!touched[key] && !shownAtLoad[key]) { return; }
      result.errors[key].forEach(function (m) { put(key, "error", m); });
    });
    (result.findings || []).forEach(function (f) { put(f.key, f.severity, f.message); });
  }

  function showSplit(result) {
    // One row, name then amount: the bar stays in view at the foot of the screen and takes one line.
    var table = document.getElementById("split");
    if (!table) { return; }
    var body = document.createElement("tbody");
    var row = document.createElement("tr");
    function cell(tag, value, cls) {
      var el = document.createElement(tag); text(el, value);
      if (cls) { el.className = cls; }
      row.appendChild(el);
    }
    var f = result.funding;
    if (!f) {
      cell("td", Object.keys(result.errors || {}).length ? "预算项目有未填完或不符合要求的栏目，填好后显示" : "填写预算项目后显示");
    } else {
      cell("th", "预算总额"); cell("td", f.total + "元", "num");
      f.parties.forEach(function (p) { cell("th", p[0]); cell("td", p[1] + "元", "num"); });
      cell("th", "居民每户分担"); cell("td", f.per_household + "元", "num");
    }
    body.appendChild(row);
    table.replaceChild(body, table.tBodies[0]);
  }

  function showAmounts(form, result) {
    // 金额 = 数量 × 单价, worked out by the server in decimals; a 金额 the clerk typed is left alone.
    var changed = false;
    Object.keys(result.amounts || {}).forEach(function (name) {
      var input = form.querySelector('input[name="' + name + '"]');
      if (!input) { return; }
      var auto = input.getAttribute("data-auto");
      if (auto === null) {  // first look: a blank 金额, or one equal to 数量 × 单价, follows them
        auto = (input.value.trim() === "" || Number(input.value) === Number(result.amounts[name])) ? "1" : "0";
        input.setAttribute("data-auto", auto);
      }
      if (auto === "1" && Number(input.value) !== Number(result.amounts[name])) {
        input.value = result.amounts[name];
        changed = true;
      }
    });
    return changed;
  }

  function preview(form) {
    var data = new FormData(form);
    return fetch(form.getAttribute("data-preview"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": data.get("csrf_token") }
    }).then(function (r) { return r.ok ? r.json() : null; }).then(function (result) {
      if (!result) { return null; }
      if (showAmounts(form, result)) { return preview(form); }  // the figures again, with the new 金额
      showMessages(form, result); showSplit(result); form.setAttribute("data-previewed", "1");
      return null;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("edit");
    if (!form) { return; }
    var timer = null;
    form.querySelectorAll("ul.messages[data-for] li.error").forEach(function (li) {
      shownAtLoad[li.parentNode.getAttribute("data-for")] = true;
    });
    form.addEventListener("focusout", function (event) {
      if (event.target.name) { touched[event.target.name] = true; }
    });
    form.addEventListener("input", function (event) {
      if (event.target.name && /\.amount$/.test(event.target.name)) { event.target.setAttribute("data-auto", "0"); }
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
