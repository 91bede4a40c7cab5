/** The views of the operator's roles, as links (#/<view>). */
import type { ViewDef } from "../views/registry";
import { useI18n } from "./i18n";
import { routeHash } from "./route";

export function Nav({ views, current }: { views: readonly ViewDef[]; current: string | null }) {
  const { t } = useI18n();
  return (
    <nav class="desk-nav" aria-label={t("nav.label")}>
      <ul>
        {views.map((v) => (
          <li key={v.id}>
            <a
              href={routeHash(v.id)}
              id={`nav-${v.id}`}
              aria-current={v.id === current ? "page" : undefined}
            >
              {t(v.title)}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
