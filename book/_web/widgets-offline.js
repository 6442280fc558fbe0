// Glue that lets @jupyter-widgets/html-manager 1.x work on this site with no network.
// Loaded after require.js and before embed-amd.js (nb_ipywidgets_js in _config.yml).
(function () {
  // 1. embed-amd.js finds its icon fonts beside its own AMD module id, which require.js resolves
  //    against the page's folder. Map the id to where the build copied it: _static/html-manager.
  var src = document.currentScript && document.currentScript.src;
  if (src && window.require && window.require.config) {
    var staticRoot = src.slice(0, src.lastIndexOf("/") + 1);
    window.require.config({
      paths: { "@jupyter-widgets/html-manager/dist": staticRoot + "html-manager" },
    });
  }
  // 2. The html-manager typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); this
  //    book loads MathJax 3. Once MathJax 3 has started, answer that one call with its API.
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || mj.Hub || !mj.startup) return;
    mj.Hub = {
      Queue: function (job) {
        var element = job && job[2];
        if (element) mj.startup.promise.then(function () { return mj.typesetPromise([element]); });
      },
    };
  });
})();
