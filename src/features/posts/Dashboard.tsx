import { usePaginatedQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";
import { FREE_POST_QUOTA, hasPro } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { AuthorCard } from "./AuthorCard";
import { NewPostForm } from "./NewPostForm";
import { PostItem } from "./PostItem";

/** The realtime dashboard: the viewer's own posts, live through a paginated subscription. */
export function Dashboard() {
  const viewer = useViewer();
  const { results, status, loadMore } = usePaginatedQuery(api.posts.listMine, {}, { initialNumItems: 20 });
  return (
    <div className="columns">
      <div className="stack">
        <AuthorCard />
        <NewPostForm />
        {viewer && !hasPro(viewer) && (
          <p className="muted small">
            Free plan: up to {FREE_POST_QUOTA} posts. Pro adds insights and scheduling.
          </p>
        )}
      </div>
      <section aria-label="My posts">
        <h2>My posts</h2>
        {status === "LoadingFirstPage" ? (
          <p className="muted">Loading…</p>
        ) : results.length === 0 ? (
          <p className="muted">No posts yet. Write your first one.</p>
        ) : (
          <ul className="posts">
            {results.map((post) => (
              <PostItem key={post._id} post={post} editable />
            ))}
          </ul>
        )}
        {status === "CanLoadMore" && <button onClick={() => loadMore(20)}>Load more</button>}
      </section>
    </div>
  );
}
