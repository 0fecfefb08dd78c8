import { useMutation } from "convex/react";
import { useEffect, useRef, useState } from "react";
import { api } from "../../../convex/_generated/api";
import { canEditPost, canRemovePost, hasPro } from "../../../convex/lib/permissions";
import type { PostView } from "../../../convex/lib/validators";
import { useViewer } from "../../auth/useViewer";
import { useToast } from "../../components/toast/toastContext";
import { EditPostForm } from "./EditPostForm";
import { formatWhen } from "./text";
import { usePatientCall } from "./usePatientCall";
import "./posts.css";

/**
 * One post, with what the viewer may do to it asked of the same rules the server enforces
 * (convex/lib/permissions.ts; UX only): the author edits in place, makes it public or private and
 * calls off a scheduled publish; whoever may remove it deletes it (the dashboard holds the
 * deletion back for its undo).
 */
export function PostItem({ post, onDelete }: { post: PostView; onDelete?: (post: PostView) => void }) {
  const viewer = useViewer();
  const canEdit = !!viewer && canEditPost(viewer.clerkId, post);
  const canRemove = !!viewer && canRemovePost(viewer.clerkId, viewer, post);
  const update = useMutation(api.posts.update);
  const cancelSchedule = useMutation(api.posts.cancelSchedule);
  const toast = useToast();
  const { run, pending } = usePatientCall();
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  useEffect(() => {
    // Back from the edit form: the cursor returns to the post's Edit button, not the page's top.
    if (!editing && returnFocus.current) {
      returnFocus.current = false;
      editButton.current?.focus();
    }
  }, [editing]);
  const toggle = post.visibility === "public" ? "private" : "public";

  const act = async (call: () => Promise<unknown>, done: string) => {
    const outcome = await run(call);
    if (outcome.ok) toast.show(done);
    else toast.show(outcome.message, "error");
  };

  if (editing) {
    return (
      <li className="post editing">
        <EditPostForm
          post={post}
          canSchedule={!!viewer && hasPro(viewer)}
          onDone={() => {
            returnFocus.current = true;
            setEditing(false);
          }}
        />
      </li>
    );
  }
  return (
    <li className="post">
      <div className="post-head">
        <h3>{post.title}</h3>
        <span className={`badge vis-${post.visibility}`}>{post.visibility}</span>
      </div>
      {post.publishAt !== undefined && (
        <p className="post-schedule">
          <span className="badge scheduled">Scheduled</span> Publishes{" "}
          <time dateTime={new Date(post.publishAt).toISOString()}>{formatWhen(post.publishAt)}</time>
          {canEdit && (
            <button
              type="button"
              className="text-button"
              disabled={pending}
              onClick={() =>
                void act(() => cancelSchedule({ id: post._id }), "Schedule cancelled; the post stays private")
              }
            >
              Cancel schedule
            </button>
          )}
        </p>
      )}
      {post.body && <p className="post-body">{post.body}</p>}
      <div className="post-meta muted small">{formatWhen(post._creationTime)}</div>
      {(canEdit || (canRemove && onDelete)) && (
        <div className="post-actions">
          {canEdit && (
            <>
              <button type="button" ref={editButton} onClick={() => setEditing(true)}>
                Edit
              </button>
              <button
                type="button"
                disabled={pending}
                onClick={() => void act(() => update({ id: post._id, visibility: toggle }), `Made ${toggle}`)}
              >
                Make {toggle}
              </button>
            </>
          )}
          {canRemove && onDelete && (
            <button type="button" className="danger" onClick={() => onDelete(post)}>
              Delete
            </button>
          )}
        </div>
      )}
    </li>
  );
}
