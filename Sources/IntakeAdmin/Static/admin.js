// Intake admin UI: the live parts only. Every page works without this file.
"use strict";
(function () {
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    setUpMenu();
    setUpCopyButtons();
    setUpErrorSummary();
    setUpProgress();
    setUpBatchList();
    setUpNewBatchForm();
    setUpLogTools();
    setUpTableFilter();
  });

  // A filter box that hides table rows not containing the typed text (the schema page).
  function setUpTableFilter() {
    var box = document.querySelector("input[data-filter]");
    if (!box) return;
    var scope = document.getElementById(box.getAttribute("data-filter"));
    box.parentNode.hidden = false;
    box.addEventListener("input", function () {
      var text = box.value.toLowerCase();
      scope.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = text !== "" && row.textContent.toLowerCase().indexOf(text) < 0;
      });
    });
  }

  function setUpMenu() {
    var button = document.querySelector(".menu-button");
    var nav = document.getElementById("site-nav");
    if (!button || !nav) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (!target) return;
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = target.value !== undefined ? target.value : target.textContent;
        var done = function () { button.textContent = "Copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () {});
        } else if (target.select) {
          target.select(); document.execCommand("copy"); done();
        }
      });
    });
  }

  function setUpErrorSummary() {
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
  }

  function size(bytes) {
    if (bytes < 1000) return bytes + " bytes";
    var units = ["kB", "MB", "GB", "TB"], value = bytes / 1000, unit = 0;
    while (value >= 1000 && unit < units.length - 1) { value /= 1000; unit++; }
    return (value < 10 ? value.toFixed(1) : value.toFixed(0)) + " " + units[unit];
  }

  // C.1: poll status.json every 2 s (10 s after 5 minutes), update in place, tail the log,
  // reload once when the run has finished so the final blocks and buttons appear.
  function setUpProgress() {
    var region = document.getElementById("progress");
    if (!region) return;
    var statusURL = region.getAttribute("data-status");
    var logURL = region.getAttribute("data-log");
    var announce = document.getElementById("progress-announce");
    var started = Date.now(), firstRead = null, lastAnnounced = 0, lastState = null;
    var logText = document.getElementById("log-text");
    var logOffset = 0;
    // The tail follows new lines unless the operator scrolled up; then a button brings it back.
    var jump = document.getElementById("jump-to-latest");
    if (jump && logText) {
      jump.addEventListener("click", function () { logText.scrollTop = logText.scrollHeight; jump.hidden = true; });
      logText.addEventListener("scroll", function () {
        if (logText.scrollHeight - logText.scrollTop - logText.clientHeight < 40) jump.hidden = true;
      });
    }
    if (logText) logOffset = new TextEncoder().encode(logText.textContent).length;
    var refresh = document.getElementById("refresh-link");
    if (refresh) refresh.parentNode.hidden = true;

    function set(id, text) { var e = document.getElementById(id); if (e) e.textContent = text; }

    function poll() {
      fetch(statusURL, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      }).then(function (s) {
        var p = s.progress;
        set("batch-state", s.state);
        var badge = document.getElementById("batch-state");
        if (badge) badge.className = "badge state-" + s.state;
        set("batch-errors", String(s.errors));
        var bar = document.getElementById("progress-bar");
        var percent = p.bytesTotal > 0 ? Math.floor(p.bytesRead * 100 / p.bytesTotal) : 0;
        if (bar) { bar.max = p.bytesTotal || 1; bar.value = p.bytesRead; bar.textContent = percent + "%"; }
        set("progress-bytes", percent + "% of " + size(p.bytesTotal) + " read");
        set("progress-records", "Records: " + p.recordsRead + " read, " + p.recordsApplied + " " + (s.dryRun ? "checked" : "applied") +
          ", " + p.recordsFailed + " failed, " + p.recordsUnchanged + " unchanged");
        set("progress-state", s.state === "running" ? "Running." : s.state === "scheduled" ? "Waiting for a worker." : "Finished: " + s.state + ".");
        if (s.state === "running" && p.recordsRead > 0) {
          if (firstRead === null) firstRead = { time: Date.now(), records: p.recordsRead, bytes: p.bytesRead };
          var seconds = (Date.now() - firstRead.time) / 1000;
          if (seconds >= 10) {
            var rate = (p.recordsRead - firstRead.records) / seconds;
            var byteRate = (p.bytesRead - firstRead.bytes) / seconds;
            var left = byteRate > 0 ? Math.round((p.bytesTotal - p.bytesRead) / byteRate) : null;
            set("progress-rate", Math.round(rate) + " records/s" + (left !== null ? ", about " + left + " s left" : ""));
          }
        }
        if (announce && (s.state !== lastState || Date.now() - lastAnnounced > 30000)) {
          announce.textContent = "State " + s.state + ", " + percent + "% read";
          lastAnnounced = Date.now();
        }
        lastState = s.state;
        return tailLog().then(function () {
          if (["scheduled", "running"].indexOf(s.state) < 0) { window.location.reload(); return; }
          var wait = Date.now() - started > 300000 ? 10000 : 2000;
          window.setTimeout(poll, wait);
        });
      }).catch(function () { window.setTimeout(poll, 10000); });
    }

    function tailLog() {
      if (!logText || !logURL) return Promise.resolve();
      return fetch(logURL + "?offset=" + logOffset, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
        return r.ok ? r.text() : "";
      }).then(function (text) {
        if (!text) return;
        logOffset += new TextEncoder().encode(text).length;
        var noLog = document.getElementById("no-log");
        if (noLog) noLog.hidden = true;
        logText.hidden = false;
        var atBottom = logText.scrollHeight - logText.scrollTop - logText.clientHeight < 40;
        text.split("\n").forEach(function (line, i, all) {
          if (i === all.length - 1 && line === "") return;
          var span = document.createElement("span");
          span.className = "line" + (/^EXCEPTION:|^Too many errors/.test(line) ? " problem" : "");
          span.textContent = line + "\n";
          logText.appendChild(span);
        });
        if (atBottom) logText.scrollTop = logText.scrollHeight;
        else if (jump) jump.hidden = false;
      }).catch(function () {});
    }

    window.setTimeout(poll, 1000);
  }

  // The batch list refreshes its rows every 5 seconds while a listed batch is active.
  function setUpBatchList() {
    var table = document.getElementById("batch-list");
    if (!table || !table.hasAttribute("data-refresh")) return;
    function refresh() {
      fetch(window.location.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) { return r.text(); }).then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("batch-list");
        if (!fresh) return;
        table.replaceWith(fresh);
        table = fresh;
        if (fresh.hasAttribute("data-refresh")) window.setTimeout(refresh, 5000);
      }).catch(function () { window.setTimeout(refresh, 10000); });
    }
    window.setTimeout(refresh, 5000);
  }

  // B.8: add rows in place, and fill rows from dropped or picked files.
  function setUpNewBatchForm() {
    var form = document.querySelector("form.new-batch");
    if (!form) return;
    var tbody = document.querySelector("#file-rows tbody");
    var count = document.getElementById("row-count");
    var addButton = document.getElementById("add-row");

    function addRow() {
      var index = parseInt(count.value, 10);
      var row = document.createElement("tr");
      row.innerHTML = "<td><label class=\"visually-hidden\"></label><input type=\"text\" list=\"file-names\" aria-describedby=\"name-hint\"></td>" +
        "<td><label class=\"visually-hidden\"></label><input type=\"file\" class=\"row-file\"></td>";
      var labels = row.querySelectorAll("label"), inputs = row.querySelectorAll("input");
      labels[0].htmlFor = inputs[0].id = inputs[0].name = "name_" + index;
      labels[0].textContent = "Name of file " + index;
      labels[1].htmlFor = inputs[1].id = inputs[1].name = "file_" + index;
      labels[1].textContent = "File " + index;
      tbody.appendChild(row);
      count.value = String(index + 1);
      return row;
    }

    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      addRow().querySelector("input[type=text]").focus();
    });

    function place(file) {
      var target = null;
      tbody.querySelectorAll("tr").forEach(function (row) {
        var input = row.querySelector("input.row-file");
        if (!target && input && input.files.length === 0) target = row;
      });
      if (!target) target = addRow();
      var input = target.querySelector("input.row-file");
      var transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      var name = target.querySelector("input[type=text]");
      if (name && name.value === "") name.value = file.name.replace(/\.[^.]*$/, "");
    }

    var zone = document.getElementById("drop-zone");
    var picker = document.getElementById("pick-files");
    if (zone && window.DataTransfer) {
      zone.hidden = false;
      zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
      zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
      zone.addEventListener("drop", function (e) {
        e.preventDefault(); zone.classList.remove("over");
        Array.prototype.forEach.call(e.dataTransfer.files, place);
      });
      picker.addEventListener("change", function () {
        Array.prototype.forEach.call(picker.files, place);
        picker.value = "";
      });
    }
  }

  // C.3: a filter box and "Errors only" for the log.
  function setUpLogTools() {
    var tools = document.querySelector(".log-tools");
    var log = document.getElementById("log-text");
    if (!tools || !log) return;
    tools.hidden = false;
    var filter = document.getElementById("log-filter"), errorsOnly = document.getElementById("errors-only");
    function apply() {
      var text = filter.value;
      log.querySelectorAll(".line").forEach(function (line) {
        var content = line.textContent;
        var hide = (text && content.indexOf(text) < 0) || (errorsOnly.checked && /^(START|END):/.test(content));
        line.classList.toggle("hidden", !!hide);
      });
    }
    filter.addEventListener("input", apply);
    errorsOnly.addEventListener("change", apply);
  }
})();
