import { useEffect, useMemo, useState } from 'react'
import type { Dashboard as Snapshot, Alert } from '../../../src/modules/console/schema.js'
import { followStream } from '../api.js'
import { Chart, loadCharts, type ChartOption } from '../components/Chart.js'
import { Layout } from '../components/Layout.js'
import { Empty, Loading } from '../components/States.js'
import { useT } from '../i18n.js'
import { chinaTime, duration, hhmm, int, percent } from '../lib/format.js'
import { Link } from '../router.js'

const LANE_COLORS: Record<string, string> = {
  GREEN: '#2fb46e',
  BLUE: '#3f8ef0',
  YELLOW: '#f2c230',
  RED: '#e5484d',
  HELD: '#9aa4b2',
  REJECTED: '#6b7280',
}
const TEXT = '#c9d6ea'
const AXIS = {
  axisLine: { lineStyle: { color: '#3b4a63' } },
  axisLabel: { color: TEXT },
  splitLine: { lineStyle: { color: '#24324a' } },
}

function Kpi({ label, value, tone, id }: { label: string; value: string; tone?: 'alert' | 'ok'; id: string }) {
  return (
    <div className={`kpi${tone ? ` ${tone}` : ''}`} data-kpi={id}>
      <div className="kpi-value">{value}</div>
      <div className="kpi-label">{label}</div>
    </div>
  )
}

function alertText(a: Alert, t: ReturnType<typeof useT>['t']): string {
  const isRate = a.kind === 'MODEL_HIT_RATE_DROP'
  return t(`alert.${a.kind}`, {
    key: a.key,
    label: a.label ?? '',
    recent: isRate ? percent(a.recent) : a.recent,
    baseline: isRate ? percent(a.baseline) : a.baseline,
  })
}

/** The command dashboard: one server-sent snapshot every two seconds, drawn with ECharts. */
export function Dashboard() {
  const { t, lang } = useT()
  const [snap, setSnap] = useState<Snapshot>()
  const [connected, setConnected] = useState(true)

  useEffect(() => {
    void loadCharts()
    const ctl = new AbortController()
    void followStream(
      '/api/v1/console/stream',
      (event, data) => {
        if (event === 'snapshot') setSnap(JSON.parse(data) as Snapshot)
      },
      setConnected,
      ctl.signal,
    )
    return () => ctl.abort()
  }, [])

  const charts = useMemo(() => {
    if (!snap) return undefined
    const minutes = snap.perMinute.map((m) => hhmm(m.minute))
    const perMinute: ChartOption = {
      tooltip: { trigger: 'axis' },
      legend: { textStyle: { color: TEXT }, top: 0 },
      grid: { left: 40, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: minutes, ...AXIS },
      yAxis: { type: 'value', minInterval: 1, ...AXIS },
      series: [
        {
          name: t('dash.declarations'),
          type: 'bar',
          barMaxWidth: 24,
          data: snap.perMinute.map((m) => m.declarations),
          itemStyle: { color: '#3f8ef0' },
        },
        {
          name: t('dash.interceptsShort'),
          type: 'line',
          data: snap.perMinute.map((m) => m.intercepts),
          itemStyle: { color: '#e5484d' },
          symbol: 'none',
        },
      ],
    }
    const lanes: ChartOption = {
      tooltip: { trigger: 'item' },
      legend: { textStyle: { color: TEXT }, bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['45%', '72%'],
          center: ['50%', '45%'],
          label: { color: TEXT, formatter: '{b}: {c}' },
          data: snap.laneMix.map((l) => ({
            name: t(`lane.${l.lane}`),
            value: l.declarations,
            itemStyle: { color: LANE_COLORS[l.lane] ?? '#888' },
          })),
        },
      ],
    }
    const hit: ChartOption = {
      tooltip: { trigger: 'axis', valueFormatter: (v: unknown) => (typeof v === 'number' ? `${v}%` : '—') },
      legend: { textStyle: { color: TEXT }, top: 0 },
      grid: { left: 40, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: snap.hitRate.series.map((b) => hhmm(b.bucket)), ...AXIS },
      yAxis: {
        type: 'value',
        min: 0,
        max: 100,
        axisLabel: { color: TEXT, formatter: '{value}%' },
        splitLine: AXIS.splitLine,
      },
      series: [
        {
          name: t('dash.targeted'),
          type: 'line',
          connectNulls: true,
          symbolSize: 7,
          data: snap.hitRate.series.map((b) =>
            b.targetedHitRate === null ? null : Math.round(b.targetedHitRate * 1000) / 10,
          ),
          itemStyle: { color: '#f2994a' },
        },
        {
          name: t('dash.random'),
          type: 'line',
          connectNulls: true,
          symbolSize: 7,
          data: snap.hitRate.series.map((b) =>
            b.randomHitRate === null ? null : Math.round(b.randomHitRate * 1000) / 10,
          ),
          itemStyle: { color: '#9aa4b2' },
          lineStyle: { type: 'dashed' },
        },
      ],
    }
    // Seconds while clearance is that fast (green lanes release at once), minutes otherwise.
    const inMinutes = snap.clearance.some((c) => c.p90Seconds >= 120)
    const unit = inMinutes ? 60 : 1
    const clearance: ChartOption = {
      tooltip: {
        trigger: 'axis',
        valueFormatter: (v: unknown) => (typeof v === 'number' ? duration(v * unit, lang) : '—'),
      },
      legend: { textStyle: { color: TEXT }, top: 0 },
      grid: { left: 48, right: 16, top: 30, bottom: 24 },
      xAxis: { type: 'category', data: snap.clearance.map((c) => c.port), ...AXIS },
      yAxis: {
        type: 'value',
        name: inMinutes ? (lang === 'zh' ? '分钟' : 'min') : lang === 'zh' ? '秒' : 's',
        nameTextStyle: { color: TEXT },
        ...AXIS,
      },
      series: [
        {
          name: t('dash.median'),
          type: 'bar',
          barMaxWidth: 36,
          data: snap.clearance.map((c) => Math.round((c.medianSeconds / unit) * 10) / 10),
          itemStyle: { color: '#2fb46e' },
        },
        {
          name: t('dash.p90'),
          type: 'bar',
          barMaxWidth: 36,
          data: snap.clearance.map((c) => Math.round((c.p90Seconds / unit) * 10) / 10),
          itemStyle: { color: '#1b7a4a' },
        },
      ],
    }
    const ceb: ChartOption = {
      tooltip: { trigger: 'axis' },
      grid: { left: 36, right: 12, top: 10, bottom: 22 },
      xAxis: { type: 'category', data: minutes, ...AXIS },
      yAxis: { type: 'value', minInterval: 1, ...AXIS },
      series: [
        {
          name: t('dash.cebPerMinute'),
          type: 'line',
          areaStyle: { opacity: 0.25 },
          symbol: 'none',
          data: snap.perMinute.map((m) => m.cebTickets),
          itemStyle: { color: '#a78bfa' },
        },
      ],
    }
    return { perMinute, lanes, hit, clearance, ceb }
  }, [snap, t, lang])

  return (
    <Layout wide dark>
      <div className="dash-head">
        <h1>{t('dash.title')}</h1>
        <p className={`live${connected ? '' : ' off'}`} role="status" aria-live="polite">
          <span className="dot" aria-hidden="true" />
          {connected ? t('dash.live') : t('dash.reconnecting')}
          {snap && <> · {t('dash.updated', { time: chinaTime(snap.at).slice(11) })}</>}
        </p>
      </div>
      {!snap || !charts ? (
        <Loading />
      ) : (
        <div className="dash" data-ready="true">
          <section className="kpis" aria-label="KPI">
            <Kpi id="today" label={t('dash.today')} value={int(snap.totals.declarationsToday)} />
            <Kpi id="hour" label={t('dash.lastHour')} value={int(snap.totals.declarationsLastHour)} />
            <Kpi
              id="intercepts"
              label={t('dash.intercepts')}
              value={int(snap.totals.interceptsLastHour)}
              tone="alert"
            />
            <Kpi id="open" label={t('dash.openInspections')} value={int(snap.totals.openInspections)} />
            <Kpi
              id="findings"
              label={t('dash.nonCompliant')}
              value={`${int(snap.totals.nonCompliantToday)} / ${int(snap.totals.inspectedToday)}`}
              tone="alert"
            />
            <Kpi id="held" label={t('dash.held')} value={int(snap.totals.heldForReview)} />
          </section>
          <section className="panel span2">
            <h2>{t('dash.perMinute')}</h2>
            <Chart option={charts.perMinute} label={t('dash.perMinute')} />
          </section>
          <section className="panel">
            <h2>{t('dash.laneMix')}</h2>
            {snap.laneMix.length ? <Chart option={charts.lanes} label={t('dash.laneMix')} /> : <Empty />}
          </section>
          <section className="panel span2">
            <h2>{t('dash.hitRate')}</h2>
            <p className="sub">
              {t('dash.targeted')} {percent(snap.hitRate.targeted.hitRate)} ({snap.hitRate.targeted.nonCompliant}/
              {snap.hitRate.targeted.inspected}) · {t('dash.random')} {percent(snap.hitRate.random.hitRate)} (
              {snap.hitRate.random.nonCompliant}/{snap.hitRate.random.inspected})
              {snap.hitRate.liftPp !== null && (
                <>
                  {' '}
                  · <strong>{t('dash.lift', { pp: snap.hitRate.liftPp })}</strong>
                </>
              )}
            </p>
            <Chart option={charts.hit} label={t('dash.hitRate')} height={190} />
          </section>
          <section className="panel">
            <h2>{t('dash.alerts')}</h2>
            {snap.alerts.length === 0 ? (
              <Empty>{t('dash.noAlerts')}</Empty>
            ) : (
              <ul className="alerts">
                {snap.alerts.map((a, i) => (
                  <li key={i} className={a.severity.toLowerCase()}>
                    <span className="sev">{t(`sev.${a.severity}`)}</span> {alertText(a, t)}
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="panel span2">
            <h2>{t('dash.clearance')}</h2>
            {snap.clearance.length ? <Chart option={charts.clearance} label={t('dash.clearance')} /> : <Empty />}
          </section>
          <section className="panel">
            <h2>{t('dash.recent')}</h2>
            {snap.recentResults.length === 0 ? (
              <Empty />
            ) : (
              <ul className="results">
                {snap.recentResults.map((r) => (
                  <li
                    key={r.inspectionId}
                    className={r.result === 'NON_COMPLIANT' ? 'bad' : 'good'}
                    data-entry={r.entryId ?? ''}>
                    <Link to={`/officer/declarations/${r.declarationId}`}>
                      {r.entryId ?? r.declarationId.slice(0, 8)}
                    </Link>{' '}
                    <span className="result">{t(`result.${r.result}`)}</span>
                    {r.categories.length > 0 && (
                      <span className="cats"> · {r.categories.map((c) => t(`cat.${c}`)).join('、')}</span>
                    )}
                    <span className="time"> {chinaTime(r.finishedAt).slice(11)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="panel span2">
            <h2>{t('dash.ceb')}</h2>
            <p className="sub">
              {t('dash.cebLastMinute', { n: snap.ecommerce.ticketsLastMinute, h: snap.ecommerce.ticketsLastHour })}
            </p>
            <div className="ceb">
              <Chart option={charts.ceb} label={t('dash.cebPerMinute')} height={150} />
              <div>
                <h3>{t('dash.topRejections')}</h3>
                {snap.ecommerce.topRejections.length === 0 ? (
                  <Empty />
                ) : (
                  <ol className="reasons">
                    {snap.ecommerce.topRejections.map((r) => (
                      <li key={r.code}>
                        <code>{r.code}</code> {r.tickets}
                      </li>
                    ))}
                  </ol>
                )}
              </div>
            </div>
          </section>
          <section className="panel">
            <h2>{t('dash.certificates')}</h2>
            {snap.certificates.available ? (
              <p className="big" data-kpi="certificates">
                {int(snap.certificates.issuedToday)}
                <small>
                  {' '}
                  {t('dash.certToday', { n: snap.certificates.issuedToday, total: snap.certificates.issuedTotal })}
                </small>
              </p>
            ) : (
              <Empty>{t('dash.certNA')}</Empty>
            )}
          </section>
        </div>
      )}
    </Layout>
  )
}
