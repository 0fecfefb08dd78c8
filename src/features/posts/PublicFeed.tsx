import { usePaginatedQuery } from "convex/react";
import { api } from "../../../convex/_generated/api";
import { PostItem } from "./PostItem";

export function PublicFeed() {
  const { results, status, loadMore } = usePaginatedQuery(api.posts.listPublic, {}, { initialNumItems: 20 });
  return (
    <section aria-label="Public posts">
      <h2>Public posts</h2>
      {status === "LoadingFirstPage" ? (
        <p className="muted">Loading…</p>
      ) : results.length === 0 ? (
        <p className="muted">Nothing public yet.</p>
      ) : (
        <ul className="posts">
          {results.map((post) => (
            <PostItem key={post._id} post={post} editable={false} />
          ))}
        </ul>
      )}
      {status === "CanLoadMore" && <button onClick={() => loadMore(20)}>Load more</button>}
    </section>
  );
}
