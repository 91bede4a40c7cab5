/** Silence one message's alarm for a time: a modal <dialog>, never prompt(). */
import { useEffect, useRef } from "preact/hooks";
import type { InboxItem } from "../../api/types";
import { useI18n } from "../../shell/i18n";

export const SILENCE_MINUTES = [5, 15, 60] as const;

export function SilenceDialog({
  item,
  onClose,
}: {
  item: InboxItem;
  onClose: (minutes: number | null) => void;
}) {
  const { t } = useI18n();
  const dialog = useRef<HTMLDialogElement>(null);
  const back = useRef<Element | null>(null);

  useEffect(() => {
    back.current = document.activeElement;
    dialog.current?.showModal();
    return () => {
      if (back.current instanceof HTMLElement) back.current.focus();
    };
  }, []);

  return (
    <dialog
      ref={dialog}
      class="card"
      aria-labelledby="silence-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose(null);
      }}
    >
      <h2 id="silence-title">{t("inbox.silenceFor", { subject: item.subject })}</h2>
      <div class="buttons">
        {SILENCE_MINUTES.map((m) => (
          <button key={m} type="button" onClick={() => onClose(m)}>
            {t("inbox.minutes", { count: m })}
          </button>
        ))}
        <button type="button" class="secondary" onClick={() => onClose(null)}>
          {t("app.cancel")}
        </button>
      </div>
    </dialog>
  );
}
