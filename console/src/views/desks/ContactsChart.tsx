/** The refusal record over time as an inline SVG: one stacked bar per bucket of days,
 * described for screen readers and given as a table beside it. */
import type { Key } from "../../i18n/translate";
import { useI18n } from "../../shell/i18n";
import { type Bucket, OUTCOMES, scale } from "./contactsChart";

const W = 640;
const H = 220;
const PAD = { left: 36, right: 8, top: 10, bottom: 34 };

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** A day in UTC, in the operator's language ("3 Mar" / "3 мар."). */
export function useDay(): (at: Date) => string {
  const { lang } = useI18n();
  let format = dayFormats.get(lang);
  if (!format) {
    format = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" });
    dayFormats.set(lang, format);
  }
  const found = format;
  return (at) => found.format(at);
}

export function ContactsChart({ id, buckets, caption }: { id: string; buckets: Bucket[]; caption: string }) {
  const { t } = useI18n();
  const day = useDay();
  const { top, ticks } = scale(Math.max(0, ...buckets.map((b) => b.requested)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, buckets.length);
  const barW = Math.max(4, slot * 0.6);
  const y = (count: number) => PAD.top + plotH - (count / top) * plotH;
  const range = (b: Bucket) => t("contacts.chart.range", { from: day(b.start), to: day(new Date(b.end.getTime() - 1)) });
  const outcomeName = (o: string) => t(`contacts.outcome.${o}` as Key);
  const described = buckets
    .map((b) =>
      t("contacts.chart.bucketText", {
        range: range(b),
        requests: t("contacts.requests", { count: b.requested }),
        detail: OUTCOMES.filter((o) => b[o] > 0)
          .map((o) => `${outcomeName(o)} ${b[o]}`)
          .join(", "),
      }),
    )
    .join("; ");

  return (
    <figure class="chart" id={id}>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        width={W}
        height={H}
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
      >
        <title id={`${id}-title`}>{caption}</title>
        <desc id={`${id}-desc`}>{described}</desc>
        {ticks.map((tick) => (
          <g key={tick}>
            <line class="grid-line" x1={PAD.left} x2={W - PAD.right} y1={y(tick)} y2={y(tick)} />
            <text x={PAD.left - 6} y={y(tick) + 4} text-anchor="end">
              {tick}
            </text>
          </g>
        ))}
        <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={y(0)} y2={y(0)} />
        {buckets.map((b, i) => {
          const x = PAD.left + i * slot + (slot - barW) / 2;
          let base = 0;
          return (
            <g key={b.start.getTime()} data-bucket={i}>
              {OUTCOMES.filter((o) => b[o] > 0).map((o) => {
                const from = base;
                base += b[o];
                return (
                  <rect key={o} class={o} x={x} width={barW} y={y(base)} height={y(from) - y(base)}>
                    <title>{`${range(b)}: ${outcomeName(o)} ${b[o]}`}</title>
                  </rect>
                );
              })}
              <text x={x + barW / 2} y={H - PAD.bottom + 16} text-anchor="middle">
                {day(b.start)}
              </text>
            </g>
          );
        })}
      </svg>
      <ul class="legend" aria-hidden="true">
        {OUTCOMES.map((o) => (
          <li key={o}>
            <span class={`swatch ${o}`} />
            {outcomeName(o)}
          </li>
        ))}
      </ul>
      <details class="table-alt">
        <summary>{t("contacts.chart.asTable")}</summary>
        <table class="grid" id={`${id}-table`}>
          <caption class="sr-only">{caption}</caption>
          <thead>
            <tr>
              <th scope="col">{t("contacts.chart.period")}</th>
              <th scope="col" class="num">
                {t("contacts.chart.requested")}
              </th>
              {OUTCOMES.map((o) => (
                <th key={o} scope="col" class="num">
                  {outcomeName(o)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {buckets.map((b) => (
              <tr key={b.start.getTime()}>
                <th scope="row">{range(b)}</th>
                <td class="num">{b.requested}</td>
                {OUTCOMES.map((o) => (
                  <td key={o} class="num">
                    {b[o]}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
