// The U 盘 mounted now, shared by every file place on screen: asked of the shell every 3 s
// while at least one place is shown, so a stick plugged in appears by itself.
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'
import { removableDrives, type RemovableDrive } from '../api'

const POLL_MS = 3000
const drives = ref<RemovableDrive[]>([])
let users = 0
let timer: ReturnType<typeof setInterval> | null = null

async function refresh() {
  // A window in the background asks nothing (on Windows each answer costs a PowerShell).
  if (document.hidden) return
  try {
    const now = await removableDrives()
    // Keep the same array while nothing changed, so the page does not re-render every poll.
    if (JSON.stringify(now) !== JSON.stringify(drives.value)) drives.value = now
  } catch {
    // Listing sticks is a convenience; the text box and the dialogs still work without it.
  }
}

/** The sticks mounted now, refreshed while the calling component is mounted. */
export function useDrives(): Ref<RemovableDrive[]> {
  onMounted(() => {
    users += 1
    if (users === 1) {
      void refresh()
      timer = setInterval(() => void refresh(), POLL_MS)
    }
  })
  onBeforeUnmount(() => {
    users -= 1
    if (users === 0 && timer !== null) {
      clearInterval(timer)
      timer = null
    }
  })
  return drives
}
