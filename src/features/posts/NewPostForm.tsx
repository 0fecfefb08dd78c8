import { useMutation } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../../../convex/_generated/api";
import { BODY_MAX, TITLE_MAX } from "../../../convex/lib/permissions";
import { useServerCall } from "../../lib/useServerCall";
import { FormError, SubmitButton } from "../../components/FormError";

export function NewPostForm() {
  const create = useMutation(api.posts.create);
  const { run, error, pending } = useServerCall();
  const [title, setTitle] = useState("");
  const [body, setBody] = useState("");
  const [visibility, setVisibility] = useState<"private" | "public">("private");

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault();
    const id = await run(() => create({ title, body, visibility }));
    if (id) {
      setTitle("");
      setBody("");
    }
  };

  return (
    <form className="card new-post" onSubmit={onSubmit} aria-label="New post">
      <h2>New post</h2>
      <label>
        Title
        <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={TITLE_MAX * 2} required />
      </label>
      <label>
        Body
        <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={3} maxLength={BODY_MAX * 2} />
      </label>
      <div className="row">
        <label className="inline">
          <input
            type="checkbox"
            checked={visibility === "public"}
            onChange={(e) => setVisibility(e.target.checked ? "public" : "private")}
          />
          Public
        </label>
        <SubmitButton busy={pending} label="Post" busyLabel="Posting…" />
      </div>
      <FormError message={error} />
    </form>
  );
}
