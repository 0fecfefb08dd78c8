import { useAuth } from "@clerk/clerk-react";
import { usePaginatedQuery } from "convex/react";
import { Link } from "react-router-dom";
import { api } from "../../../convex/_generated/api";
import type { PublicPostView } from "../../../convex/lib/publicFeed";
import { usePageTitle } from "../../components/usePageTitle";
import "./publicFeed.css";

const PAGE = 20;

/** Everyone's public posts, newest first and live; readable without an account. */
export function PublicFeed() {
  usePageTitle("Public posts");
  const { isLoaded, isSignedIn } = useAuth();
  const { results, status, loadMore } = usePaginatedQuery(
    api.posts.listPublic,
    {},
    { initialNumItems: PAGE },
  );
  return (
    <section className="public-feed" aria-labelledby="public-feed-title">
      <header className="public-feed-head">
        <h1 id="public-feed-title">Public posts</h1>
        <p className="muted">What Gatehouse members have chosen to share, newest first. It updates live.</p>
      </header>
      {isLoaded && !isSignedIn && (
        <p className="public-feed-join" role="note">
          <Link to="/sign-up">Sign up</Link> to write your own, or <Link to="/sign-in">sign in</Link>.
        </p>
      )}
      {status === "LoadingFirstPage" ? (
        <p className="muted" role="status">
          Loading…
        </p>
      ) : results.length === 0 ? (
        <p className="muted">Nothing public yet.</p>
      ) : (
        <ul className="posts">
          {results.map((post) => (
            <PublicPost key={post._id} post={post} />
          ))}
        </ul>
      )}
      {status === "CanLoadMore" && <button onClick={() => loadMore(PAGE)}>Load more</button>}
      {status === "LoadingMore" && (
        <p className="muted" role="status">
          Loading more…
        </p>
      )}
    </section>
  );
}

function PublicPost({ post }: { post: PublicPostView }) {
  const created = new Date(post._creationTime);
  return (
    <li className="post">
      <article aria-labelledby={`post-${post._id}`}>
        <h2 className="public-post-title" id={`post-${post._id}`}>
          {post.title}
        </h2>
        <p className="public-post-meta muted">
          <span className="public-post-author">{post.authorName}</span>
          {" · "}
          <time dateTime={created.toISOString()}>{created.toLocaleString()}</time>
        </p>
        {post.body && <p className="post-body">{post.body}</p>}
      </article>
    </li>
  );
}
