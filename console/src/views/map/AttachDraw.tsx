/** A map attachment drawn beside a message being composed: an area or a track, with a
 * name; it goes out in the message's content, signed with it. */
import type L from "leaflet";
import { useEffect, useRef, useState } from "preact/hooks";
import type { NewAttachment } from "../../api/calls";
import { useDesk } from "../../shell/desk";
import { useI18n } from "../../shell/i18n";
import type { Drawing, enableShapes, Shape } from "./drawing";
import { LazyMap } from "./LazyMap";

export function AttachDraw({
  id,
  value,
  onChange,
}: {
  id: string;
  value: NewAttachment | null;
  onChange: (attachment: NewAttachment | null) => void;
}) {
  const { t, lang } = useI18n();
  const { api, me } = useDesk();
  const [open, setOpen] = useState(false);
  const [enable, setEnable] = useState<typeof enableShapes | null>(null);
  const drawing = useRef<Drawing | null>(null);
  const valueRef = useRef(value);
  valueRef.current = value;
  const onChangeRef = useRef(onChange);
  onChangeRef.current = onChange;

  useEffect(() => {
    if (open && !enable) void import("./drawing").then((m) => setEnable(() => m.enableShapes));
  }, [open]);
  useEffect(() => () => drawing.current?.remove(), []);

  const ready = (map: L.Map) => {
    if (!enable) return;
    drawing.current = enable(
      map,
      lang,
      (shape: Shape) => {
        const name = valueRef.current?.name ?? "";
        onChangeRef.current(
          shape.kind === "area"
            ? { name, kind: "area", geometry: shape.area as unknown as Record<string, unknown> }
            : { name, kind: "track", geometry: shape.geometry },
        );
      },
      true,
    );
  };
  const count =
    value?.kind === "track" ? ((value.geometry.coordinates as unknown[] | undefined)?.length ?? 0) : 0;
  return (
    <details class="attach" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>{t("compose.attach")}</summary>
      <p class="hint">{t("compose.attachHint")}</p>
      {open && enable && (
        <LazyMap
          api={api}
          layers={undefined}
          own={me.party}
          id={`${id}-map`}
          label={t("compose.attachLabel")}
          height="300px"
          legend={false}
          svg
          onReady={ready}
        />
      )}
      {value && (
        <div class="row">
          <p role="status" id={`${id}-attached`}>
            {value.kind === "track" ? t("compose.attachedTrack", { count }) : t("compose.attachedArea")}
          </p>
          <div class="field">
            <label for={`${id}-name`}>{t("compose.attachName")}</label>
            <input
              id={`${id}-name`}
              name="attachment-name"
              maxLength={120}
              required
              value={value.name}
              onInput={(e) => onChange({ ...value, name: (e.currentTarget as HTMLInputElement).value })}
            />
          </div>
          <button
            type="button"
            class="secondary small"
            onClick={() => {
              drawing.current?.clear();
              onChange(null);
            }}
          >
            {t("compose.attachRemove")}
          </button>
        </div>
      )}
    </details>
  );
}
