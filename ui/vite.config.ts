// Builds the UI into ui/dist, which the desktop shell embeds (tauri.conf.json: frontendDist).
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  // Relative asset paths keep the bundle loadable from Tauri's custom protocol.
  base: './',
  clearScreen: false,
  build: {
    // WebKitGTK 2.38+ on Debian 12 / UOS; Safari 15 is the matching target.
    target: ['es2021', 'safari15'],
    chunkSizeWarningLimit: 2000,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
})
