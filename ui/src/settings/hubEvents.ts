// Lets an open page reload when the background sync brought data from the county hub.
import { onMounted, onUnmounted } from 'vue'
import { onHubEvent } from '../api'

/** Calls `reload` each time a sync applied new data, for as long as the component lives. */
export function useHubData(reload: () => unknown) {
  let stop: (() => void) | undefined
  let gone = false
  onMounted(async () => {
    try {
      const unlisten = await onHubEvent('hub-data', () => void reload())
      if (gone) unlisten()
      else stop = unlisten
    } catch {
      // Outside the app (unit tests, a plain browser) there are no events.
    }
  })
  onUnmounted(() => {
    gone = true
    stop?.()
  })
}
