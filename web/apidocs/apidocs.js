// Renders openapi.yaml, served next to this page, with Swagger UI. Kept in a
// file of its own because the gateway's Content-Security-Policy allows no
// inline script. Nothing is loaded from another origin: the online validator
// badge is switched off and "try it out" calls this same origin.
"use strict";

window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.yaml", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    displayOperationId: true,
    filter: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
