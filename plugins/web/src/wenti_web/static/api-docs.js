// Renders the OpenAPI schema as a plain list of operations, without outside assets.
(function () {
  "use strict";
  var main = document.getElementById("api-docs");
  if (!main) return;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  fetch(main.getAttribute("data-schema-url"))
    .then(function (response) { return response.json(); })
    .then(function (schema) {
      while (main.firstChild) main.removeChild(main.firstChild);
      main.appendChild(element("h1", schema.info.title + " " + schema.info.version));
      if (schema.info.description) main.appendChild(element("p", schema.info.description));
      var link = element("a", "openapi.json");
      link.href = main.getAttribute("data-schema-url");
      main.appendChild(link);
      Object.keys(schema.paths).sort().forEach(function (path) {
        var operations = schema.paths[path];
        Object.keys(operations).forEach(function (method) {
          var operation = operations[method];
          var box = element("section", null, "operation");
          var head = element("h2");
          head.appendChild(element("span", method, "method"));
          head.appendChild(element("code", path));
          box.appendChild(head);
          if (operation.summary) box.appendChild(element("p", operation.summary));
          if (operation.description) box.appendChild(element("p", operation.description, "muted"));
          var parameters = (operation.parameters || []).map(function (p) { return p.name + " (" + p.in + ")"; });
          if (parameters.length) box.appendChild(element("p", "Parameters: " + parameters.join(", "), "muted"));
          var statuses = Object.keys(operation.responses || {});
          box.appendChild(element("p", "Responses: " + statuses.join(", "), "muted"));
          main.appendChild(box);
        });
      });
    })
    .catch(function (error) { main.appendChild(element("p", "Could not load the schema: " + error)); });
})();
