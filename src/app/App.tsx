/** Placeholder shell until the SPA lands: the backend is the product for now. */
export function App() {
  return (
    <main style={{ fontFamily: "system-ui", maxWidth: 640, margin: "4rem auto" }}>
      <h1>Gatehouse</h1>
      <p>Authentication by Clerk, authorization on the server in every Convex function.</p>
    </main>
  );
}
