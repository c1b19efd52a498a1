// cnai workspace: small progressive enhancement. Pages work without it; this adds live job progress (SSE).
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || !window.EventSource) { return; }
  var status = box.getAttribute("data-status");
  if (status !== "running" && status !== "queued") { return; }
  var id = box.getAttribute("data-job");
  var es = new EventSource("/api/v1/jobs/" + encodeURIComponent(id) + "/events");
  function show(data) {
    var st = document.getElementById("job-status");
    var bar = document.getElementById("job-progress");
    var cnt = document.getElementById("job-count");
    st.textContent = data.status;                      // textContent: nothing from the server is parsed as HTML
    st.className = "pill job-" + data.status;
    box.setAttribute("data-status", data.status);
    if (data.progress && data.progress.total) {
      bar.max = data.progress.total;
      bar.value = data.progress.done || 0;
      cnt.textContent = (data.progress.done || 0) + " / " + data.progress.total;
    }
  }
  es.addEventListener("progress", function (e) { show(JSON.parse(e.data)); });
  es.addEventListener("end", function (e) {
    show(JSON.parse(e.data));
    es.close();
    window.location.reload();                          // the finished page shows the report
  });
  es.onerror = function () { es.close(); };
})();
