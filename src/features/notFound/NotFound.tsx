import { Link, useLocation } from "react-router-dom";
import { usePageTitle } from "../../components/usePageTitle";
import "./notFound.css";

/** Any path Gatehouse has no page for: say so, and offer the way home, instead of a silent redirect. */
export function NotFound() {
  usePageTitle("Page not found");
  const { pathname } = useLocation();
  return (
    <section className="card not-found" aria-labelledby="not-found-title">
      <p className="not-found-code" aria-hidden="true">
        404
      </p>
      <h1 id="not-found-title">Page not found</h1>
      <p>
        There is no page at <code>{pathname}</code>. The link may be mistyped, or the page may have moved.
      </p>
      <p className="not-found-links">
        <Link className="button" to="/">
          Go to the home page
        </Link>
        <Link to="/public">Read the public feed</Link>
      </p>
    </section>
  );
}
