// Typed wrappers over the desktop shell's Tauri commands; the only place the UI calls invoke.
import { invoke } from '@tauri-apps/api/core'

/** Mirrors bangfu_core::query::HouseholdQuery (field names as serde spells them). */
export interface HouseholdQuery {
  text: string
  village_code: string | null
  group_name: string | null
  poverty_status: string | null
  attribute: string | null
  main_cause: string | null
  not_visited_days: number | null
  sort: string | null
  descending: boolean
  offset: number
  limit: number
}

/** One line of the household list; code-valued fields arrive as their Chinese labels. */
export interface HouseholdRow {
  id: string
  code: string
  village_name: string
  group_name: string
  head_name: string
  head_id_number: string
  members: number
  attribute: string
  poverty_status: string
  main_cause: string
  last_visit: string | null
}

export interface HouseholdPage {
  total: number
  rows: HouseholdRow[]
}

export interface AppInfo {
  db_path: string
  device_name: string
}

/** One value list of the filing forms: stable codes with the labels the paper form prints. */
export interface CodeList {
  key: string
  title: string
  entries: [code: string, label: string][]
}

/** The shell's single error shape; `message` is Chinese and meant for the user. */
export interface ApiError {
  kind: string
  message: string
}

export function isApiError(value: unknown): value is ApiError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ApiError).kind === 'string' &&
    typeof (value as ApiError).message === 'string'
  )
}

/** The Chinese text to show for anything a command rejected with. */
export function errorMessage(error: unknown): string {
  if (isApiError(error)) return error.message
  if (typeof error === 'string') return error
  return '无法连接到帮扶台账程序，请重新启动后再试。'
}

export function listHouseholds(query: HouseholdQuery): Promise<HouseholdPage> {
  return invoke<HouseholdPage>('list_households', { query })
}

export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>('app_info')
}

export function codeLists(): Promise<CodeList[]> {
  return invoke<CodeList[]>('code_lists')
}

export function villageGroups(): Promise<string[]> {
  return invoke<string[]>('village_groups')
}
