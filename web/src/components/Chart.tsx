import { useEffect, useRef } from 'react'
import * as echarts from 'echarts/core'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent, TitleComponent, AriaComponent } from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

// Only what the dashboard draws: keeps the bundle small so the big screen loads fast.
echarts.use([BarChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, TitleComponent, AriaComponent, CanvasRenderer])

export type ChartOption = echarts.EChartsCoreOption

/** An ECharts canvas that follows its option and its container's size. `label` is read by screen readers. */
export function Chart({ option, label, height = 220 }: { option: ChartOption; label: string; height?: number }) {
  const el = useRef<HTMLDivElement>(null)
  const chart = useRef<echarts.ECharts | null>(null)
  useEffect(() => {
    const c = echarts.init(el.current!, undefined, { renderer: 'canvas' })
    chart.current = c
    const ro = new ResizeObserver(() => c.resize())
    ro.observe(el.current!)
    return () => { ro.disconnect(); c.dispose(); chart.current = null }
  }, [])
  useEffect(() => {
    chart.current?.setOption({ aria: { enabled: true, label: { description: label } }, animationDuration: 300, ...option }, { notMerge: false, lazyUpdate: true })
  }, [option, label])
  return <div ref={el} className="chart" role="img" aria-label={label} style={{ height }} />
}
