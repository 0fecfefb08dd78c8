import { useMutation } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import { hasPro } from "../../../convex/lib/permissions";
import type { PostView } from "../../../convex/lib/validators";
import { useViewer } from "../../auth/useViewer";
import { useServerCall } from "../../lib/useServerCall";
import { FormError } from "../../components/FormError";

function ScheduleControl({ post }: { post: PostView }) {
  const schedule = useMutation(api.posts.schedulePublish);
  const { run, error, pending } = useServerCall();
  const [when, setWhen] = useState("");
  return (
    <span className="schedule">
      <input
        type="datetime-local"
        aria-label={`Publish "${post.title}" at`}
        value={when}
        onChange={(e) => setWhen(e.target.value)}
      />
      <button
        disabled={!when || pending}
        onClick={() => void run(() => schedule({ id: post._id, publishAt: new Date(when).getTime() }))}
      >
        Schedule
      </button>
      {error && (
        <span role="alert" className="error">
          {error}
        </span>
      )}
    </span>
  );
}

export function PostItem({ post, editable }: { post: PostView; editable: boolean }) {
  const viewer = useViewer();
  const update = useMutation(api.posts.update);
  const remove = useMutation(api.posts.remove);
  const { run, error, pending } = useServerCall();
  const toggle = post.visibility === "public" ? "private" : "public";
  return (
    <li className="post">
      <div className="post-head">
        <h3>{post.title}</h3>
        <span className={`badge vis-${post.visibility}`}>{post.visibility}</span>
        {post.publishAt && (
          <span className="badge scheduled">publishes {new Date(post.publishAt).toLocaleString()}</span>
        )}
      </div>
      {post.body && <p className="post-body">{post.body}</p>}
      <div className="post-meta muted">{new Date(post._creationTime).toLocaleString()}</div>
      {editable && (
        <div className="post-actions">
          <button
            disabled={pending}
            onClick={() => void run(() => update({ id: post._id, visibility: toggle }))}
          >
            Make {toggle}
          </button>
          <button
            className="danger"
            disabled={pending}
            onClick={() => void run(() => remove({ id: post._id }))}
          >
            Delete
          </button>
          {viewer && hasPro(viewer) && post.visibility === "private" && <ScheduleControl post={post} />}
        </div>
      )}
      <FormError message={error} />
    </li>
  );
}
