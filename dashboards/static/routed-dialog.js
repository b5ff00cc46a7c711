// The routed pages (agent.js, signals.js): a modal dialog tied to a location hash. Closing one gives the focus
// back to what opened it; leaving it restores the address it was opened from.

/** Closes `dialog` (if open) and gives the focus back to `opener` when it is still on the page. */
export function closeDialog(dialog, opener) {
  if (dialog.open) dialog.close();
  if (opener?.isConnected && opener !== document.body) opener.focus();
}

/**
 * Leaves a routed page's address: back to the history entry it was opened from when opening it `pushed` one,
 * else (the page was loaded on its address) the same page without the hash.
 */
export function leaveAddress(pushed) {
  if (pushed) history.back();
  else history.replaceState(null, "", location.pathname + location.search);
}
