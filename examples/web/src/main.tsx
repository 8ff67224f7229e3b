import { createSessionClient } from "@session-api/client";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { apiUrl } from "./config";
import "./styles.css";

// Cookie mode: the refresh token lives in an HttpOnly cookie the page cannot read; the access
// token only in this tab's memory. Each page load asks the server for a new one (App's restore).
const auth = createSessionClient({ url: apiUrl(), transport: "cookie" });

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <App auth={auth} />
  </StrictMode>,
);
