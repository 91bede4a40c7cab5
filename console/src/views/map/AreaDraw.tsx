/** A map to draw a notification's area on, beside the typed fields: what is drawn fills
 * the fields, what is typed is drawn. */
import type L from "leaflet";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Area } from "../desks/area";
import { useDesk } from "../../shell/desk";
import { useI18n } from "../../shell/i18n";
import type { Drawing, enableDrawing } from "./drawing";
import { LazyMap } from "./LazyMap";

export function AreaDraw({ area, onArea }: { area: Area | null; onArea: (area: Area) => void }) {
  const { t, lang } = useI18n();
  const { api, me } = useDesk();
  const drawing = useRef<Drawing | null>(null);
  const onAreaRef = useRef(onArea);
  onAreaRef.current = onArea;
  const shown = useRef<string>("");
  const areaRef = useRef(area);
  areaRef.current = area;

  // the drawing plug-in first: it hooks into every map made after it loads
  const [enable, setEnable] = useState<typeof enableDrawing | null>(null);
  useEffect(() => {
    void import("./drawing").then((module) => setEnable(() => module.enableDrawing));
  }, []);

  const ready = (map: L.Map) => {
    if (!enable) return;
    drawing.current = enable(map, lang, (drawn) => {
      shown.current = JSON.stringify(drawn);
      onAreaRef.current(drawn);
    });
    shown.current = JSON.stringify(areaRef.current);
    drawing.current.show(areaRef.current);
  };

  useEffect(() => {
    const text = JSON.stringify(area);
    if (drawing.current && text !== shown.current) {
      shown.current = text;
      drawing.current.show(area);
    }
  }, [area]);

  useEffect(() => () => drawing.current?.remove(), []);

  return (
    <div class="area-draw">
      <p class="hint" id="area-draw-hint">
        {t("notices.drawHint")}
      </p>
      {enable && <LazyMap
        api={api}
        layers={undefined}
        own={me.party}
        id="area-map"
        label={t("notices.drawLabel")}
        height="320px"
        legend={false}
        svg
        onReady={ready}
      />}
    </div>
  );
}
