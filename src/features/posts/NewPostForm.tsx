import { useMutation } from "convex/react";
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../../../convex/_generated/api";
import { FormError, SubmitButton } from "../../components/FormError";
import { UpgradePrompt } from "../../components/UpgradePrompt";
import { useToast } from "../../components/toast/toastContext";
import { PostFields } from "./PostFields";
import { QuotaMeter } from "./QuotaMeter";
import { formatWhen, fromLocalInput, lengthProblem } from "./text";
import { usePatientCall } from "./usePatientCall";
import "./posts.css";

export type Quota = { used: number; limit: number | null };

/**
 * Writing a post. Free users see their quota and, at it, a locked form with the way to Pro
 * instead of a refusal; Pro users may schedule the post from here. The form returns to a
 * private, empty post after each one, with the cursor back in the title.
 */
export function NewPostForm({ quota, isPro }: { quota: Quota | undefined; isPro: boolean }) {
  const create = useMutation(api.posts.create);
  const schedule = useMutation(api.posts.schedulePublish);
  const toast = useToast();
  const { run, pending, slow } = usePatientCall();
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [isPublic, setIsPublic] = useState(false);
  const [when, setWhen] = useState("");
  const [error, setError] = useState<string | null>(null);
  const titleRef = useRef<HTMLInputElement>(null);
  const current = useRef({ title, body });
  useEffect(() => {
    current.current = { title, body };
  });
  const id = useId();

  const locked = quota !== undefined && quota.limit !== null && quota.used >= quota.limit;
  const scheduling = isPro && when !== "";

  const reset = () => {
    setTitle("");
    setBody("");
    setIsPublic(false);
    setWhen("");
    setError(null);
  };

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    if (pending || locked) return;
    const tooLong = lengthProblem(title, body);
    if (tooLong) return setError(tooLong);
    const publishAt = scheduling ? fromLocalInput(when) : null;
    if (scheduling && (publishAt === null || publishAt <= Date.now())) {
      return setError("Choose a publishing time in the future.");
    }
    setError(null);
    const sent = { title, body };
    const outcome = await run(async () => {
      const postId = await create({
        title,
        body,
        visibility: scheduling ? "private" : isPublic ? "public" : "private",
      });
      if (publishAt === null) return { scheduled: null as string | null };
      try {
        await schedule({ id: postId, publishAt });
        return { scheduled: formatWhen(publishAt) };
      } catch {
        return { scheduled: "failed" };
      }
    });
    const unchanged = current.current.title === sent.title && current.current.body === sent.body;
    if (outcome.ok) {
      if (!outcome.late || unchanged) reset();
      if (!outcome.late) titleRef.current?.focus();
      const what = outcome.late ? `“${sent.title.trim()}” was posted once the connection returned` : "Posted";
      if (outcome.value.scheduled === "failed") {
        toast.show(
          `${what}, but it could not be scheduled; it stays private. Edit it to try again.`,
          "error",
        );
      } else {
        toast.show(outcome.value.scheduled ? `${what} · publishes ${outcome.value.scheduled}` : what);
      }
    } else if (outcome.code === "UPGRADE_REQUIRED") {
      // The quota was reached elsewhere (another tab): the meter locks the form and offers Pro.
      setError(null);
    } else {
      setError(outcome.message);
      if (outcome.late) toast.show(`Your post was not saved: ${outcome.message}`, "error");
    }
  };

  return (
    <form
      className="card new-post"
      onSubmit={(event) => void onSubmit(event)}
      aria-label="New post"
      noValidate
    >
      <h2>New post</h2>
      {quota && quota.limit !== null && <QuotaMeter used={quota.used} limit={quota.limit} />}
      {locked && (
        <UpgradePrompt
          feature="Unlimited posts"
          description={
            quota.used > (quota.limit ?? Infinity)
              ? `Your ${quota.used} posts stay, but the free plan adds no more past ${quota.limit}. Pro has no limit, plus insights and scheduling.`
              : `You have used all ${quota.limit} posts of the free plan. Pro has no limit, plus insights and scheduling.`
          }
        />
      )}
      <fieldset className="new-post-fields" disabled={locked}>
        <PostFields
          id={id}
          title={title}
          body={body}
          onTitle={setTitle}
          onBody={setBody}
          titleRef={titleRef}
          titleRequired
        />
        <div className="schedule-field">
          <label htmlFor={`${id}-when`}>Publish at (optional)</label>
          <input
            id={`${id}-when`}
            type="datetime-local"
            value={when}
            onChange={(e) => setWhen(e.target.value)}
            disabled={!isPro}
            aria-describedby={isPro ? `${id}-when-hint` : undefined}
          />
          {isPro ? (
            <span id={`${id}-when-hint`} className="muted small">
              Stays private until then.
            </span>
          ) : (
            <UpgradePrompt feature="Scheduling" compact />
          )}
        </div>
        <div className="row">
          <label className="inline">
            <input
              type="checkbox"
              checked={isPublic && !scheduling}
              disabled={scheduling}
              onChange={(e) => setIsPublic(e.target.checked)}
            />
            Public
          </label>
          <SubmitButton
            busy={pending}
            label={scheduling ? "Post and schedule" : "Post"}
            busyLabel="Posting…"
          />
        </div>
      </fieldset>
      {slow && (
        <p className="notice" role="status">
          The server has not answered for 10 seconds. Your post is kept and will be sent when the connection
          returns; you will see it here then.
        </p>
      )}
      <FormError message={error} />
    </form>
  );
}
