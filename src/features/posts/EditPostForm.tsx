import { useMutation } from "convex/react";
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { api } from "../../../convex/_generated/api";
import type { PostView } from "../../../convex/lib/validators";
import { FormError } from "../../components/FormError";
import { useToast } from "../../components/toast/toastContext";
import { PostFields } from "./PostFields";
import { formatWhen, fromLocalInput, lengthProblem, toLocalInput } from "./text";
import { usePatientCall } from "./usePatientCall";

/**
 * A post edited in place: title, body and (Pro, private posts) when it publishes. Save sends only
 * what changed; Cancel or Escape puts the post back as it was.
 */
export function EditPostForm({
  post,
  canSchedule,
  onDone,
}: {
  post: PostView;
  canSchedule: boolean;
  onDone: () => void;
}) {
  const update = useMutation(api.posts.update);
  const schedule = useMutation(api.posts.schedulePublish);
  const cancelSchedule = useMutation(api.posts.cancelSchedule);
  const toast = useToast();
  const { run, pending, slow } = usePatientCall();
  const initialWhen = post.publishAt ? toLocalInput(post.publishAt) : "";
  const [title, setTitle] = useState(post.title);
  const [body, setBody] = useState(post.body);
  const [when, setWhen] = useState(initialWhen);
  const [error, setError] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const id = useId();
  const showSchedule = canSchedule && post.visibility === "private";

  useEffect(() => titleRef.current?.focus(), []);

  const onKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onDone();
    }
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending) return;
    const tooLong = lengthProblem(title, body);
    if (tooLong) return setError(tooLong);
    const whenChanged = showSchedule && when !== initialWhen;
    const publishAt = whenChanged ? fromLocalInput(when) : null;
    if (whenChanged && when !== "" && (publishAt === null || publishAt <= Date.now())) {
      return setError("Choose a publishing time in the future.");
    }
    setError(null);
    const changes = {
      ...(title !== post.title ? { title } : {}),
      ...(body !== post.body ? { body } : {}),
    };
    if (Object.keys(changes).length === 0 && !whenChanged) return onDone();
    const outcome = await run(async () => {
      if (Object.keys(changes).length > 0) await update({ id: post._id, ...changes });
      if (whenChanged && publishAt !== null) await schedule({ id: post._id, publishAt });
      if (whenChanged && publishAt === null) await cancelSchedule({ id: post._id });
    });
    if (outcome.ok) {
      const scheduled = whenChanged && publishAt !== null ? ` · publishes ${formatWhen(publishAt)}` : "";
      const unscheduled = whenChanged && publishAt === null ? " · schedule cancelled" : "";
      toast.show(`Saved${scheduled}${unscheduled}`);
      onDone();
    } else {
      setError(outcome.message);
      if (outcome.late) toast.show(`Your changes were not saved: ${outcome.message}`, "error");
    }
  };

  return (
    <form
      className="edit-post"
      onSubmit={(event) => void onSubmit(event)}
      onKeyDown={onKeyDown}
      aria-label={`Edit “${post.title}”`}
      noValidate
    >
      <PostFields id={id} title={title} body={body} onTitle={setTitle} onBody={setBody} titleRef={titleRef} />
      {showSchedule && (
        <div className="schedule-field">
          <label htmlFor={`${id}-when`}>Publish at</label>
          <input
            id={`${id}-when`}
            type="datetime-local"
            value={when}
            onChange={(e) => setWhen(e.target.value)}
          />
          <span className="muted small">Leave empty to keep it private.</span>
        </div>
      )}
      <div className="edit-actions">
        <button type="submit" disabled={pending}>
          {pending ? "Saving…" : "Save"}
        </button>
        <button type="button" className="secondary" onClick={onDone}>
          Cancel
        </button>
      </div>
      {slow && (
        <p className="notice" role="status">
          The server has not answered for 10 seconds. Your changes are kept and will be sent when the
          connection returns.
        </p>
      )}
      <FormError message={error} />
    </form>
  );
}
