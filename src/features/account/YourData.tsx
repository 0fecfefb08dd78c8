/** What Gatehouse keeps about an account, and what deleting it (Security → Delete account) removes. */
export function YourData() {
  return (
    <section className="account-section" aria-labelledby="data-title">
      <h2 id="data-title">Your data</h2>
      <p>
        Gatehouse keeps your name, email address and picture (from your account), your posts, and your plan.
      </p>
      <h3>Deleting your account</h3>
      <ul>
        <li>removes your sign-in and signs you out: this browser at once, other devices within a minute;</li>
        <li>deletes all your posts, public and private, at once;</li>
        <li>keeps one line in the administrators' audit log saying that the account was deleted.</li>
      </ul>
      <p>It cannot be undone. You will find it under Security.</p>
    </section>
  );
}
