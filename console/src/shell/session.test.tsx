/** The whole console in a simulated browser (happy-dom) against a fake node: signing in
 * shows the desk; an ended session (a 401 from any call, or `session-ended` on the
 * stream) and signing out leave nothing of it in the DOM and close the stream. */
import { render } from "preact";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { App } from "./App";

const ME = {
  principal: "RU/NDMC",
  name: "NDMC",
  party: "RU",
  node: "RU",
  roles: ["watch_officer"],
  lines: ["us-ru"],
  language: "ru",
};
const ITEM = {
  id: "m1",
  line: "us-ru",
  from: "US/EUCOM-JOC",
  precedence: "FLASH",
  kind: "notification",
  subject: "Missile test launch",
  body: "Not directed at you.",
  lang: "en",
  sent: "2026-03-01T12:00:00Z",
  deadline: "2026-03-01T12:10:00Z",
  acked_by: null,
  acked_at: null,
  officer: null,
  exercise: null,
};

class FakeEventSource {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSED = 2;
  static made: FakeEventSource[] = [];
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((m: MessageEvent) => void) | null = null;
  onerror: (() => void) | null = null;
  listeners = new Map<string, (m: MessageEvent) => void>();
  constructor(readonly url: string) {
    FakeEventSource.made.push(this);
    setTimeout(() => {
      if (this.readyState === 2) return;
      this.readyState = 1;
      this.onopen?.();
    }, 0);
  }
  addEventListener(name: string, fn: (m: MessageEvent) => void) {
    this.listeners.set(name, fn);
  }
  close() {
    this.readyState = 2;
  }
}

let signedIn = false;
let expired = false;
const calls: string[] = [];

function answer(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": status < 400 ? "application/json" : "application/problem+json" },
  });
}

async function fakeNode(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : new Request(String(input), init);
  const path = new URL(request.url).pathname;
  calls.push(`${request.method} ${path}`);
  if (path === "/api/v1/auth/login") {
    signedIn = true;
    return answer(200, { token: "t", principal: "RU/NDMC", expires_at: "2026-03-01T20:00:00Z" });
  }
  if (path === "/api/v1/auth/logout") {
    signedIn = false;
    return answer(200, { signed_out: "RU/NDMC" });
  }
  if (path === "/api/v1/node") return answer(200, { party: "RU", name: "RU", language: "ru" });
  if (!signedIn || expired) return answer(401, { type: "about:blank#not-authenticated", status: 401 });
  switch (path) {
    case "/api/v1/me":
      return answer(200, ME);
    case "/api/v1/time":
      return answer(200, { now: "2026-03-01T12:00:30Z", speed: 1, exercise: null });
    case "/api/v1/lines":
      return answer(200, [{ id: "us-ru", kind: "deconfliction", title: "", status: "active", parties: ["US", "RU"], principals: [], kinds: ["free"] }]);
    case "/api/v1/inbox":
      return answer(200, [ITEM]);
    case "/api/v1/verify":
      return answer(200, { ok: true, events: 3, problems: [] });
    case "/api/v1/link":
      return answer(200, { peers: {}, queue: 0, alerts: [] });
    default:
      return answer(200, []);
  }
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never: ${what}`);
};

let root: HTMLElement;

async function signIn(): Promise<void> {
  render(<App />, root);
  await until(() => root.querySelector("#sign-in") !== null, "the sign-in form");
  expect(root.querySelector("#sign-in [role=status]")).toBeNull(); // no "session ended" yet
  const principal = root.querySelector<HTMLInputElement>("#sign-in-principal")!;
  const password = root.querySelector<HTMLInputElement>("#sign-in-password")!;
  principal.value = "RU/NDMC";
  principal.dispatchEvent(new Event("input", { bubbles: true }));
  password.value = "secret";
  password.dispatchEvent(new Event("input", { bubbles: true }));
  root.querySelector<HTMLFormElement>("#sign-in")!.dispatchEvent(
    new Event("submit", { bubbles: true, cancelable: true }),
  );
  await until(() => root.querySelector("#inbox") !== null, "the inbox");
}

function deskLeft(): string[] {
  return ["#who", "#main[data-view]", ".desk-nav", "#inbox", "#reader", "#health"].filter(
    (s) => root.querySelector(s) !== null,
  );
}

describe("a session on screen", () => {
  beforeEach(() => {
    signedIn = false;
    expired = false;
    calls.length = 0;
    FakeEventSource.made = [];
    vi.stubGlobal("fetch", vi.fn(fakeNode));
    vi.stubGlobal("EventSource", FakeEventSource);
    history.replaceState(null, "", "/console/");
    root = document.createElement("div");
    document.body.append(root);
  });

  afterEach(() => {
    render(null, root);
    root.remove();
    vi.unstubAllGlobals();
  });

  it("shows the desk in the user's language, with one stream", async () => {
    await signIn();
    expect(document.documentElement.lang).toBe("ru");
    expect(root.textContent).toContain("Missile test launch");
    expect(root.textContent).toContain("МОЛНИЯ");
    // on the node's clock (March), not the browser's: 9m30s before the deadline
    expect(root.querySelector("#inbox td.left")?.textContent).toMatch(/^9 мин (30|29) с$/);
    expect(FakeEventSource.made.filter((s) => s.readyState !== 2)).toHaveLength(1);
  });

  it("ends on a 401 from any call: nothing of the desk remains, the stream closes", async () => {
    await signIn();
    expired = true;
    location.hash = "#/sent";
    await until(() => root.querySelector("#sign-in") !== null, "the sign-in form again");
    expect(deskLeft()).toEqual([]);
    expect(root.textContent).not.toContain("Missile test launch");
    expect(root.querySelector<HTMLInputElement>("#sign-in-password")!.value).toBe("");
    expect(FakeEventSource.made.every((s) => s.readyState === 2)).toBe(true);
    expect(location.hash).toBe("");
  });

  it("ends when the stream says session-ended", async () => {
    await signIn();
    FakeEventSource.made[0]!.listeners.get("session-ended")!(new MessageEvent("session-ended"));
    await until(() => root.querySelector("#sign-in") !== null, "the sign-in form again");
    expect(deskLeft()).toEqual([]);
    expect(FakeEventSource.made.every((s) => s.readyState === 2)).toBe(true);
  });

  it("signs out: the node is told, then nothing remains", async () => {
    await signIn();
    root.querySelector<HTMLButtonElement>("#sign-out")!.click();
    await until(() => root.querySelector("#sign-in") !== null, "the sign-in form again");
    expect(calls).toContain("POST /api/v1/auth/logout");
    expect(deskLeft()).toEqual([]);
    expect(root.textContent).not.toContain("Missile test launch");
    expect(FakeEventSource.made.every((s) => s.readyState === 2)).toBe(true);
  });
});
