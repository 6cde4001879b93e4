// The ECharts options of the report charts, built from the core's figures. Pure functions: the
// component only hands them to the chart, and the tests read what each chart will draw.
import type { EChartsCoreOption } from 'echarts/core'
import type { Readiness, StatsReport } from '../api'

const RED = '#b3261e'
const BLUE = '#3b6fb6'
const AMBER = '#e0a030'
const GREEN = '#5a9e6f'
/** The app's red, then colours that stay apart when printed in grey. */
export const COLOURS = [RED, BLUE, AMBER, GREEN, '#8c6bb1', '#7f7f7f']

// Room above the tallest bar's label for the title.
const GRID = { left: 48, right: 16, top: 48, bottom: 56, containLabel: false }

function base(title: string): EChartsCoreOption {
  return {
    color: COLOURS,
    title: { text: title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: GRID,
  }
}

/** Long village names wrap rather than overlap under the bars. */
const CATEGORY_LABELS = { interval: 0, fontSize: 11, width: 64, overflow: 'break' }

/** 户数 and 人数 side by side for each 脱贫状态. */
export function statusChart(report: StatsReport): EChartsCoreOption {
  return {
    ...base('按脱贫状态 户数与人数'),
    legend: { bottom: 0, data: ['户数', '人数'] },
    xAxis: { type: 'category', data: report.by_status.map((s) => s.status), axisLabel: CATEGORY_LABELS },
    yAxis: { type: 'value' },
    series: [
      { name: '户数', type: 'bar', data: report.by_status.map((s) => s.households), label: { show: true, position: 'top' } },
      { name: '人数', type: 'bar', data: report.by_status.map((s) => s.people), label: { show: true, position: 'top' } },
    ],
  }
}

/** A line of the incidence table as the axis names it: the village, or the township's total
 *  (villages imported without a township are totalled as 未填乡镇). */
export function incidenceName(line: StatsReport['incidence'][number]): string {
  if (line.village_code !== '') return line.village_name
  return `${line.township.trim() || '未填乡镇'}（合计）`
}

/** 贫困发生率 of each village, then each township's total in another colour. */
export function incidenceChart(report: StatsReport): EChartsCoreOption {
  const lines = report.incidence
  return {
    ...base('贫困发生率（%）'),
    xAxis: { type: 'category', data: lines.map(incidenceName), axisLabel: CATEGORY_LABELS },
    yAxis: { type: 'value', axisLabel: { formatter: '{value}%' } },
    series: [
      {
        name: '贫困发生率',
        type: 'bar',
        data: lines.map((l) => ({
          // Two decimals, as the forms print a percentage.
          value: l.incidence_pct === null ? null : Math.round(l.incidence_pct * 100) / 100,
          itemStyle: { color: l.village_code === '' ? BLUE : RED },
        })),
        label: { show: true, position: 'top', formatter: '{c}%' },
      },
    ],
  }
}

/** For each check of the standard, how many households meet it, do not, or are unknown. */
export function readinessChart(readiness: Readiness): EChartsCoreOption {
  const checks = readiness.by_check
  const series = (name: string, key: 'met' | 'not_met' | 'unknown', colour: string) => ({
    name,
    type: 'bar',
    stack: 'households',
    itemStyle: { color: colour },
    label: { show: true, formatter: (p: { value: number }) => (p.value > 0 ? String(p.value) : '') },
    data: checks.map((c) => c[key]),
  })
  return {
    ...base(readinessText(readiness)),
    legend: { bottom: 0, data: ['达标', '未达标', '待核实'] },
    grid: { ...GRID, left: 150, bottom: 40 },
    xAxis: { type: 'value', minInterval: 1 },
    yAxis: { type: 'category', inverse: true, data: checks.map((c) => shortCheckLabel(c.label)), axisLabel: { fontSize: 11 } },
    series: [series('达标', 'met', GREEN), series('未达标', 'not_met', RED), series('待核实', 'unknown', AMBER)],
  }
}

/** The readiness in one line: the year, and how many of the households evaluated meet all. */
export function readinessText(readiness: Readiness): string {
  return `${readiness.year}年退出标准：${readiness.meeting} / ${readiness.households} 户全部达标`
}

/** Visit coverage of the scope in one line: households visited in the year of all households. */
export function coverageText(report: StatsReport): string {
  const households = report.visits.reduce((n, v) => n + v.households, 0)
  const visited = report.visits.reduce((n, v) => n + v.visited_in_year, 0)
  const share = households > 0 ? `${Math.round((visited * 1000) / households) / 10}%` : '无户'
  return `${report.year}年走访覆盖：${visited} / ${households} 户（${share}）`
}

/** "一超：人均纯收入稳定超过当年标准" reads "一超：人均纯收入稳定超…" on a narrow axis. */
export function shortCheckLabel(label: string): string {
  return label.length > 12 ? `${label.slice(0, 11)}…` : label
}

/** Amounts (万元) and counts of measures by 七个一批 path. */
export function measuresChart(report: StatsReport): EChartsCoreOption {
  return {
    ...base(`${report.year}年帮扶措施（七个一批）`),
    legend: { bottom: 0, data: ['金额（万元）', '措施数'] },
    grid: { ...GRID, right: 48 },
    // Ten paths under one chart: slanted, so neighbouring names never run into each other.
    xAxis: { type: 'category', data: report.by_path.map((p) => p.path), axisLabel: { interval: 0, rotate: 35, fontSize: 11 } },
    yAxis: [
      { type: 'value', name: '万元' },
      { type: 'value', name: '项', minInterval: 1 },
    ],
    series: [
      { name: '金额（万元）', type: 'bar', data: report.by_path.map((p) => Math.round(p.amount / 100) / 100) },
      { name: '措施数', type: 'line', yAxisIndex: 1, data: report.by_path.map((p) => p.measures) },
    ],
  }
}

/** The share of each village's households visited in the year. */
export function visitsChart(report: StatsReport): EChartsCoreOption {
  return {
    ...base(`${report.year}年走访覆盖率（%）`),
    xAxis: { type: 'category', data: report.visits.map((v) => v.village_name), axisLabel: CATEGORY_LABELS },
    yAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
    series: [
      {
        name: '走访覆盖率',
        type: 'bar',
        data: report.visits.map((v) => v.coverage_pct),
        label: { show: true, position: 'top', formatter: '{c}%' },
      },
    ],
  }
}
