import { act, fireEvent, render, screen, within } from "@testing-library/react";
import { MemoryRouter } from "react-router-dom";
import type { ReactNode } from "react";
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { ToastProvider } from "../../components/toast/ToastProvider";
import type { PostView } from "../../../convex/lib/validators";

// Convex hooks, by function name: each test says what the server answers.
const server = vi.hoisted(() => ({
  mutations: {} as Record<string, ReturnType<typeof vi.fn>>,
  queries: {} as Record<string, unknown>,
  posts: [] as unknown[],
  viewer: { clerkId: "user_me", plan: "free_user", role: "user", email: "me@x.test", name: "Me" } as Record<
    string,
    unknown
  >,
}));
vi.mock("convex/react", async () => {
  const { getFunctionName } = await vi.importActual<typeof import("convex/server")>("convex/server");
  const name = (ref: unknown) => getFunctionName(ref as never);
  return {
    useMutation: (ref: unknown) => (server.mutations[name(ref)] ??= vi.fn(async () => null)),
    useQuery: (ref: unknown, args: unknown) => (args === "skip" ? undefined : server.queries[name(ref)]),
    usePaginatedQuery: () => ({ results: server.posts, status: "Exhausted", loadMore: vi.fn() }),
  };
});
vi.mock("../../auth/useViewer", () => ({ useViewer: () => server.viewer }));

const { NewPostForm } = await import("./NewPostForm");
const { PostItem } = await import("./PostItem");
const { Dashboard } = await import("./Dashboard");

const wrap = (ui: ReactNode) =>
  render(
    <MemoryRouter>
      <ToastProvider>{ui}</ToastProvider>
    </MemoryRouter>,
  );
const mutation = (name: string) => (server.mutations[name] ??= vi.fn(async () => null));
const post = (over: Partial<PostView> = {}): PostView =>
  ({
    _id: "p1",
    _creationTime: Date.UTC(2026, 0, 2),
    authorId: "user_me",
    title: "First post",
    body: "Hello",
    visibility: "private",
    updatedAt: 0,
    ...over,
  }) as PostView;

beforeEach(() => {
  server.mutations = {};
  server.queries = {};
  server.posts = [];
  server.viewer = { clerkId: "user_me", plan: "free_user", role: "user", email: "me@x.test", name: "Me" };
  localStorage.clear();
});
afterEach(() => vi.useRealTimers());

describe("new post form", () => {
  test("counters count characters (code points) like the server and turn red past the limit", () => {
    wrap(<NewPostForm quota={{ used: 0, limit: 10 }} isPro={false} />);
    const title = screen.getByLabelText("Title");
    fireEvent.change(title, { target: { value: "🦊🦊🦊" } }); // 6 UTF-16 units, 3 characters
    const counter = document.getElementById(title.getAttribute("aria-describedby")!)!;
    expect(counter.textContent).toBe("3 / 120");
    expect(counter.classList.contains("over")).toBe(false);
    fireEvent.change(title, { target: { value: "  " + "x".repeat(120) + "  " } }); // trimmed like the server
    expect(counter.textContent).toBe("120 / 120");
    fireEvent.change(title, { target: { value: "x".repeat(121) } });
    expect(counter.classList.contains("over")).toBe(true);
    expect(counter.textContent).toMatch(/^121 \/ 120/);
  });

  test("an over-long title is refused on the spot with the server's sentence, without a call", () => {
    wrap(<NewPostForm quota={{ used: 0, limit: 10 }} isPro={false} />);
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "x".repeat(121) } });
    fireEvent.click(screen.getByRole("button", { name: "Post" }));
    expect(screen.getByRole("alert").textContent).toBe("Title must be at most 120 characters");
    expect(mutation("posts:create")).not.toHaveBeenCalled();
  });

  test("after a post the form is empty, private again, and the cursor is back in the title", async () => {
    mutation("posts:create").mockResolvedValue("p9");
    wrap(<NewPostForm quota={{ used: 3, limit: 10 }} isPro={false} />);
    const title = screen.getByLabelText<HTMLInputElement>("Title");
    const isPublic = screen.getByRole<HTMLInputElement>("checkbox", { name: "Public" });
    fireEvent.change(title, { target: { value: "Hello" } });
    fireEvent.change(screen.getByLabelText("Body"), { target: { value: "World" } });
    fireEvent.click(isPublic);
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Post" })));
    expect(mutation("posts:create")).toHaveBeenCalledWith({
      title: "Hello",
      body: "World",
      visibility: "public",
    });
    expect(title.value).toBe("");
    expect(screen.getByLabelText<HTMLTextAreaElement>("Body").value).toBe("");
    expect(isPublic.checked).toBe(false);
    expect(document.activeElement).toBe(title);
    expect(screen.getByText("Posted")).toBeTruthy();
  });

  test("the quota meter shows the count; at 10 / 10 the form is locked with the way to Pro", () => {
    const { rerender } = wrap(<NewPostForm quota={{ used: 7, limit: 10 }} isPro={false} />);
    expect(screen.getByText("7 / 10 posts")).toBeTruthy();
    expect(screen.getByRole("meter", { name: "Posts used" }).getAttribute("aria-valuenow")).toBe("7");
    expect(screen.getByLabelText("Title").matches(":disabled")).toBe(false);
    rerender(
      <MemoryRouter>
        <ToastProvider>
          <NewPostForm quota={{ used: 10, limit: 10 }} isPro={false} />
        </ToastProvider>
      </MemoryRouter>,
    );
    expect(screen.getByText("10 / 10 posts")).toBeTruthy();
    expect(screen.getByLabelText("Title").matches(":disabled")).toBe(true);
    expect(screen.getByRole("button", { name: "Post" }).matches(":disabled")).toBe(true);
    const upgrade = screen.getByRole("region", { name: "Upgrade to Pro" });
    expect(within(upgrade).getByRole("link", { name: "See plans" }).getAttribute("href")).toBe("/pricing");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  test("back on Free with more posts than the quota: the count is honest, the posts stay, the form is locked", () => {
    wrap(<NewPostForm quota={{ used: 11, limit: 10 }} isPro={false} />);
    expect(screen.getByText("11 posts (Free includes 10)")).toBeTruthy();
    expect(screen.getByRole("meter", { name: "Posts used" }).getAttribute("aria-valuenow")).toBe("10");
    expect(screen.getByText(/Your 11 posts stay, but the free plan adds no more past 10\./)).toBeTruthy();
    expect(screen.getByLabelText("Title").matches(":disabled")).toBe(true);
  });

  test("Pro: no meter, and a labelled publish time that schedules the new post", async () => {
    mutation("posts:create").mockResolvedValue("p9");
    wrap(<NewPostForm quota={{ used: 30, limit: null }} isPro />);
    expect(screen.queryByRole("meter")).toBeNull();
    const when = new Date(Date.now() + 3_600_000);
    when.setSeconds(0, 0);
    const pad = (n: number) => String(n).padStart(2, "0");
    const local = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`;
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Later" } });
    fireEvent.change(screen.getByLabelText("Publish at (optional)"), { target: { value: local } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Post and schedule" })));
    expect(mutation("posts:create")).toHaveBeenCalledWith({
      title: "Later",
      body: "",
      visibility: "private",
    });
    expect(mutation("posts:schedulePublish")).toHaveBeenCalledWith({ id: "p9", publishAt: when.getTime() });
  });

  test("free users see the publish time disabled, with the compact upgrade note", () => {
    wrap(<NewPostForm quota={{ used: 0, limit: 10 }} isPro={false} />);
    expect(screen.getByLabelText("Publish at (optional)").matches(":disabled")).toBe(true);
    expect(screen.getByRole("note").textContent).toBe("Scheduling is part of Pro. See plans");
  });

  test("no answer for 10 s: the form says the post is kept for the connection's return, and is usable", async () => {
    vi.useFakeTimers();
    mutation("posts:create").mockReturnValue(new Promise(() => {}));
    wrap(<NewPostForm quota={{ used: 0, limit: 10 }} isPro={false} />);
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Offline" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Post" })));
    expect(screen.getByRole("button", { name: "Posting…" }).matches(":disabled")).toBe(true);
    await act(async () => vi.advanceTimersByTime(10_000));
    expect(screen.getByText(/will be sent when the connection returns/)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Post" }).matches(":disabled")).toBe(false);
  });

  test("a quota refusal from the server is not shown as an error (the meter locks the form)", async () => {
    const { ConvexError } = await import("convex/values");
    mutation("posts:create").mockRejectedValue(new ConvexError({ code: "UPGRADE_REQUIRED", message: "x" }));
    wrap(<NewPostForm quota={{ used: 9, limit: 10 }} isPro={false} />);
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Eleventh" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Post" })));
    expect(screen.queryByRole("alert")).toBeNull();
  });
});

describe("editing a post in place", () => {
  test("Save sends only what changed, with counters, and closes the form", async () => {
    wrap(
      <ul>
        <PostItem post={post()} />
      </ul>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const title = screen.getByLabelText<HTMLInputElement>("Title");
    expect(document.activeElement).toBe(title);
    fireEvent.change(title, { target: { value: "Renamed" } });
    expect(document.getElementById(title.getAttribute("aria-describedby")!)!.textContent).toBe("7 / 120");
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save" })));
    expect(mutation("posts:update")).toHaveBeenCalledWith({ id: "p1", title: "Renamed" });
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Edit" }));
  });

  test("Cancel and Escape leave the post as it was", () => {
    wrap(
      <ul>
        <PostItem post={post()} />
      </ul>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.change(screen.getByLabelText("Title"), { target: { value: "Changed" } });
    fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.getByRole("heading", { name: "First post" })).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    fireEvent.keyDown(screen.getByLabelText("Title"), { key: "Escape" });
    expect(screen.queryByLabelText("Title")).toBeNull();
    expect(mutation("posts:update")).not.toHaveBeenCalled();
  });

  test("Pro: a private post's publish time is set, and cleared, from the edit form", async () => {
    server.viewer = { ...server.viewer, plan: "pro" };
    const publishAt = Date.now() + 86_400_000;
    wrap(
      <ul>
        <PostItem post={post({ publishAt })} />
      </ul>,
    );
    fireEvent.click(screen.getByRole("button", { name: "Edit" }));
    const when = screen.getByLabelText<HTMLInputElement>("Publish at");
    expect(when.value).not.toBe("");
    fireEvent.change(when, { target: { value: "" } });
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Save" })));
    expect(mutation("posts:cancelSchedule")).toHaveBeenCalledWith({ id: "p1" });
    expect(mutation("posts:update")).not.toHaveBeenCalled();
    expect(screen.getByText("Saved · schedule cancelled")).toBeTruthy();
  });

  test("a scheduled post shows when it publishes and can be called off", async () => {
    const publishAt = Date.now() + 86_400_000;
    wrap(
      <ul>
        <PostItem post={post({ publishAt })} />
      </ul>,
    );
    expect(
      screen
        .getByText(/Publishes/)
        .querySelector("time")
        ?.getAttribute("dateTime"),
    ).toBe(new Date(publishAt).toISOString());
    await act(async () => fireEvent.click(screen.getByRole("button", { name: "Cancel schedule" })));
    expect(mutation("posts:cancelSchedule")).toHaveBeenCalledWith({ id: "p1" });
  });
});

describe("delete with undo", () => {
  const dashboard = () => {
    server.queries["posts:quota"] = { used: 2, limit: 10 };
    server.posts = [post(), post({ _id: "p2" as PostView["_id"], title: "Second post" })];
    return wrap(<Dashboard />);
  };

  test("Undo brings the post back and nothing is deleted", async () => {
    vi.useFakeTimers();
    dashboard();
    const first = screen.getByRole("heading", { name: "First post" }).closest("li")!;
    fireEvent.click(within(first).getByRole("button", { name: "Delete" }));
    expect(screen.queryByRole("heading", { name: "First post" })).toBeNull();
    expect(screen.getByText("Post deleted")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Undo deleting “First post”" }));
    expect(screen.getByRole("heading", { name: "First post" })).toBeTruthy();
    await act(async () => vi.advanceTimersByTime(10_000));
    expect(mutation("posts:remove")).not.toHaveBeenCalled();
    expect(localStorage.length).toBe(0);
  });

  test("without Undo the post is deleted on the server after 5 s", async () => {
    vi.useFakeTimers();
    dashboard();
    fireEvent.click(
      within(screen.getByRole("heading", { name: "Second post" }).closest("li")!).getByRole("button", {
        name: "Delete",
      }),
    );
    await act(async () => vi.advanceTimersByTime(4_000));
    expect(mutation("posts:remove")).not.toHaveBeenCalled();
    await act(async () => vi.advanceTimersByTime(1_000));
    expect(mutation("posts:remove")).toHaveBeenCalledWith({ id: "p2" });
    expect(screen.queryByText("Post deleted")).toBeNull();
  });

  test("leaving the page (unmount or pagehide) sends the deletion at once", async () => {
    const { unmount } = dashboard();
    fireEvent.click(
      within(screen.getByRole("heading", { name: "First post" }).closest("li")!).getByRole("button", {
        name: "Delete",
      }),
    );
    act(() => void window.dispatchEvent(new Event("pagehide")));
    expect(mutation("posts:remove")).toHaveBeenCalledWith({ id: "p1" });
    fireEvent.click(
      within(screen.getByRole("heading", { name: "Second post" }).closest("li")!).getByRole("button", {
        name: "Delete",
      }),
    );
    unmount();
    expect(mutation("posts:remove")).toHaveBeenCalledWith({ id: "p2" });
  });

  test("a deletion written down by a page that died is sent on the next visit", () => {
    localStorage.setItem(
      "gatehouse.pendingDeletes.user_me",
      JSON.stringify([{ id: "p1", title: "First post" }]),
    );
    dashboard();
    expect(mutation("posts:remove")).toHaveBeenCalledWith({ id: "p1" });
    expect(screen.queryByRole("heading", { name: "First post" })).toBeNull();
  });

  test("a deletion another tab may still undo waits for its undo window, and is dropped if undone", async () => {
    vi.useFakeTimers();
    const key = "gatehouse.pendingDeletes.user_me";
    localStorage.setItem(
      key,
      JSON.stringify([
        { id: "p1", title: "First post", due: Date.now() + 3_000 },
        { id: "p2", title: "Second post", due: Date.now() + 3_000 },
      ]),
    );
    dashboard();
    expect(mutation("posts:remove")).not.toHaveBeenCalled();
    // The other tab undoes the second one.
    localStorage.setItem(key, JSON.stringify([{ id: "p1", title: "First post", due: Date.now() + 3_000 }]));
    await act(async () => vi.advanceTimersByTime(3_000));
    expect(mutation("posts:remove")).toHaveBeenCalledTimes(1);
    expect(mutation("posts:remove")).toHaveBeenCalledWith({ id: "p1" });
  });

  test("the dashboard has one h1 and names the tab", () => {
    dashboard();
    expect(screen.getAllByRole("heading", { level: 1 }).map((h) => h.textContent)).toEqual(["My posts"]);
    expect(document.title).toBe("My posts · Gatehouse");
  });
});

describe("what a post offers asks the server's own rules", () => {
  const buttons = () => screen.queryAllByRole("button").map((b) => b.textContent);

  test("the author may edit, publish and delete", () => {
    wrap(
      <ul>
        <PostItem post={post({ publishAt: Date.UTC(2027, 0, 1) })} onDelete={vi.fn()} />
      </ul>,
    );
    expect(buttons()).toEqual(["Cancel schedule", "Edit", "Make public", "Delete"]);
  });

  test("someone else's public post offers nothing to a member", () => {
    wrap(
      <ul>
        <PostItem post={post({ authorId: "user_other", visibility: "public" })} onDelete={vi.fn()} />
      </ul>,
    );
    expect(buttons()).toEqual([]);
  });

  test("an administrator may delete another member's post, not edit it", () => {
    server.viewer = { ...server.viewer, role: "admin" };
    wrap(
      <ul>
        <PostItem post={post({ authorId: "user_other" })} onDelete={vi.fn()} />
      </ul>,
    );
    expect(buttons()).toEqual(["Delete"]);
  });
});
