// What the household page's selects offer: the core's catalog, the villages and the 帮扶责任人
// of the data file. Loaded once per window; the catalog never changes while the app runs.
import { catalog, helpers, villages, type Catalog, type Helper, type Village } from '../api'

let catalogLoad: Promise<Catalog> | null = null

export function loadCatalog(): Promise<Catalog> {
  catalogLoad ??= catalog().catch((error: unknown) => {
    catalogLoad = null
    throw error
  })
  return catalogLoad
}

export function loadVillages(): Promise<Village[]> {
  return villages()
}

export function loadHelpers(): Promise<Helper[]> {
  return helpers()
}
