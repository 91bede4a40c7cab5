/** The situation map, loaded when first shown: Leaflet and milsymbol are most of the
 * console's weight, and most desks never open a map. */
import type { ComponentType } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useI18n } from "../../shell/i18n";
import type { SituationMapProps } from "./SituationMap";

let loaded: ComponentType<SituationMapProps> | null = null;

export function LazyMap(props: SituationMapProps) {
  const { t } = useI18n();
  const [Map, setMap] = useState<ComponentType<SituationMapProps> | null>(() => loaded);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    if (Map) return;
    import("./SituationMap").then(
      (module) => {
        loaded = module.SituationMap;
        setMap(() => module.SituationMap);
      },
      (error: unknown) => setFailed(String(error)),
    );
  }, []);
  if (failed) {
    return (
      <p class="error" role="alert">
        {failed}
      </p>
    );
  }
  if (!Map) {
    return (
      <div class="situation-map" style={{ height: props.height ?? "520px" }} role="status">
        {t("app.loading")}
      </div>
    );
  }
  return <Map {...props} />;
}
