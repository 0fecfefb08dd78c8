import { usePaginatedQuery, useQuery } from "convex/react";
import { useMemo } from "react";
import { api } from "../../../convex/_generated/api";
import { hasPro } from "../../../convex/lib/permissions";
import { useViewer } from "../../auth/useViewer";
import { Skeleton } from "../../components/Skeleton";
import { useToast } from "../../components/toast/toastContext";
import { usePageTitle } from "../../components/usePageTitle";
import { AuthorCard } from "./AuthorCard";
import { NewPostForm } from "./NewPostForm";
import { PostItem } from "./PostItem";
import { usePendingDeletes } from "./usePendingDeletes";
import "./posts.css";

/** The realtime dashboard: the viewer's own posts, live through a paginated subscription. */
export function Dashboard() {
  usePageTitle("My posts");
  const viewer = useViewer();
  const toast = useToast();
  const quota = useQuery(api.posts.quota, viewer ? {} : "skip");
  const { results, status, loadMore } = usePaginatedQuery(api.posts.listMine, {}, { initialNumItems: 20 });
  const deletes = usePendingDeletes(viewer?.clerkId, (message) => toast.show(message, "error"));
  const hidden = useMemo(() => new Set(deletes.pending.map((p) => p.id)), [deletes.pending]);
  const shown = results.filter((post) => !hidden.has(post._id));
  const undoable = deletes.pending.filter((p) => !p.sent);

  return (
    <div className="dashboard">
      <h1>My posts</h1>
      <div className="columns">
        <div className="stack">
          <AuthorCard />
          <NewPostForm quota={quota} isPro={!!viewer && hasPro(viewer)} />
        </div>
        <section aria-label="My posts" className="my-posts">
          {status === "LoadingFirstPage" ? (
            <Skeleton lines={4} label="Loading your posts" />
          ) : shown.length === 0 ? (
            <p className="muted empty">No posts yet. Write your first one.</p>
          ) : (
            <ul className="posts">
              {shown.map((post) => (
                <PostItem
                  key={post._id}
                  post={post}
                  onDelete={(p) => deletes.schedule({ id: p._id, title: p.title })}
                />
              ))}
            </ul>
          )}
          {status === "CanLoadMore" && (
            <button type="button" className="load-more" onClick={() => loadMore(20)}>
              Load more
            </button>
          )}
          {status === "LoadingMore" && <Skeleton lines={2} label="Loading more posts" />}
        </section>
      </div>
      <div className="undo-bar" aria-live="polite">
        {undoable.map((item) => (
          <div key={item.id} className="undo-toast">
            <span className="undo-text">
              Post deleted<span className="visually-hidden">: {item.title}</span>
            </span>
            <button
              type="button"
              onClick={() => deletes.undo(item.id)}
              aria-label={`Undo deleting “${item.title}”`}
            >
              Undo
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
