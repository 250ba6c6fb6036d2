import { useEffect, useRef, useState } from 'react'
import type { EChartsCoreOption, ECharts } from 'echarts/core'

export type ChartOption = EChartsCoreOption
type Lib = typeof import('../lib/echarts.js')

let lib: Promise<Lib> | undefined
/**
 * ECharts is a large module: it loads on its own (started as soon as a screen with charts mounts), so the
 * figures and lists of the screen show while it arrives.
 */
export function loadCharts(): Promise<Lib> {
  lib ??= import('../lib/echarts.js')
  return lib
}

/** An ECharts canvas that follows its option and its container's size. `label` is read by screen readers. */
export function Chart({ option, label, height = 220 }: { option: ChartOption; label: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null)
  const chart = useRef<ECharts | null>(null)
  const [ready, setReady] = useState(false)
  const [drawn, setDrawn] = useState(false)
  useEffect(() => {
    let disposed = false
    let ro: ResizeObserver | undefined
    void loadCharts().then(({ echarts }) => {
      if (disposed || !el.current) return
      const c = echarts.init(el.current, undefined, { renderer: 'canvas' })
      c.on('finished', () => setDrawn(true))
      chart.current = c
      ro = new ResizeObserver(() => c.resize())
      ro.observe(el.current)
      setReady(true)
    })
    return () => {
      disposed = true
      ro?.disconnect()
      chart.current?.dispose()
      chart.current = null
    }
  }, [])
  useEffect(() => {
    // No animation: a live screen redraws every two seconds, and should show figures, not transitions.
    chart.current?.setOption(
      { aria: { enabled: true, label: { description: label } }, animation: false, ...option },
      { notMerge: false, lazyUpdate: true },
    )
  }, [option, label, ready])
  return (
    <div
      ref={el}
      className="chart"
      role="img"
      aria-label={label}
      aria-busy={!drawn}
      data-drawn={drawn ? 'true' : undefined}
      style={{ height }}
    />
  )
}
