/** Compose: a free-text message, or a pre-agreed one from the line's catalogue. */
import { useMemo } from "preact/hooks";
import { useDesk } from "../../shell/desk";
import { useI18n } from "../../shell/i18n";
import { ViewHeading } from "../../shell/ViewHeading";
import { CodedForm } from "./CodedForm";
import { FreeTextForm } from "./FreeTextForm";

export function ComposeView() {
  const { t } = useI18n();
  const { draft } = useDesk();
  const prefill = useMemo(() => draft.take(), [draft]);
  return (
    <div class="compose-view">
      <ViewHeading>{t("compose.title")}</ViewHeading>
      <div class="columns">
        <section class="card" aria-labelledby="compose-free-title">
          <h2 id="compose-free-title">{t("compose.free")}</h2>
          <FreeTextForm id="compose" prefill={prefill} />
        </section>
        <section class="card" aria-labelledby="compose-coded-title">
          <h2 id="compose-coded-title">{t("compose.coded")}</h2>
          <CodedForm id="coded" />
        </section>
      </div>
    </div>
  );
}
