import { useViewer } from "../../auth/useViewer";

/**
 * The viewer as Gatehouse knows them: name and picture from the users row, which Clerk's verified
 * webhooks keep current. A change made in the account page shows here once that webhook lands.
 */
export function AuthorCard() {
  const viewer = useViewer();
  if (!viewer) return null;
  const name = viewer.name || viewer.email;
  return (
    <section className="card author" aria-label="You, as others see you">
      {viewer.imageUrl ? (
        <img className="avatar" src={viewer.imageUrl} alt="" width={40} height={40} />
      ) : (
        <span className="avatar" aria-hidden="true">
          {name.slice(0, 1).toUpperCase()}
        </span>
      )}
      <div>
        <div className="author-name">{name}</div>
        <div className="muted small">{viewer.email}</div>
      </div>
    </section>
  );
}
