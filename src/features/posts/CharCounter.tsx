/** "12 / 120" under a field; red, and announced, once the text is over the server's limit. */
export function CharCounter({ id, count, max }: { id: string; count: number; max: number }) {
  const over = count > max;
  return (
    <span id={id} className={over ? "counter over" : "counter"} aria-live={over ? "polite" : "off"}>
      {count.toLocaleString()} / {max.toLocaleString()}
      {over && <span className="visually-hidden"> characters, {count - max} too many</span>}
    </span>
  );
}
