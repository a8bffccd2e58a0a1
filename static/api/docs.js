"use strict";
// Swagger UI over this site's OpenAPI schema; a static file, so the page needs no inline
// script under the site's Content-Security-Policy.
(function () {
  const root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    domNode: root,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    // The API is read-only: "Try it out" only for GET.
    supportedSubmitMethods: ["get"],
  });
})();
