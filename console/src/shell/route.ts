/** The address of a view: #/<view>[/<arg>]. */
import { useEffect, useState } from "preact/hooks";

export interface Route {
  view: string | null;
  arg: string | null;
}

export function parseRoute(hash: string): Route {
  if (!hash.startsWith("#/")) return { view: null, arg: null };
  const [view = "", ...rest] = hash.slice(2).split("/");
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  return { view: view || null, arg };
}

export function routeHash(view: string, arg?: string | null): string {
  return `#/${view}${arg ? `/${encodeURIComponent(arg)}` : ""}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", changed);
    return () => removeEventListener("hashchange", changed);
  }, []);
  return route;
}
