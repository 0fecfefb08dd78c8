import type { Ref } from "react";
import { BODY_MAX, TITLE_MAX } from "../../../convex/lib/postText";
import { CharCounter } from "./CharCounter";
import { bodyLength, titleLength } from "./text";

/**
 * A post's title and body, each with a counter in the server's measure. The inputs accept more
 * than the limit, and the counter says by how much, rather than cutting the text silently.
 */
export function PostFields({
  id,
  title,
  body,
  onTitle,
  onBody,
  titleRef,
  titleRequired = false,
}: {
  /** Prefix of the fields' ids (`useId()`). */
  id: string;
  title: string;
  body: string;
  onTitle: (title: string) => void;
  onBody: (body: string) => void;
  titleRef: Ref<HTMLInputElement>;
  titleRequired?: boolean;
}) {
  return (
    <>
      <label htmlFor={`${id}-title`}>Title</label>
      <input
        id={`${id}-title`}
        ref={titleRef}
        value={title}
        onChange={(e) => onTitle(e.target.value)}
        maxLength={TITLE_MAX * 4}
        aria-describedby={`${id}-title-count`}
        required={titleRequired}
      />
      <CharCounter id={`${id}-title-count`} count={titleLength(title)} max={TITLE_MAX} />
      <label htmlFor={`${id}-body`}>Body</label>
      <textarea
        id={`${id}-body`}
        value={body}
        onChange={(e) => onBody(e.target.value)}
        rows={4}
        maxLength={BODY_MAX * 2}
        aria-describedby={`${id}-body-count`}
      />
      <CharCounter id={`${id}-body-count`} count={bodyLength(body)} max={BODY_MAX} />
    </>
  );
}
