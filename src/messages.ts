/** User-facing text of the lab extension, in one place. */
export const MSG = {
  cancel: 'Cancel',
  cancelJob: (id: string) => `Cancel job ${id}`,
  cancelFailed: (reason: string) => `Cancel failed: ${reason}`,
  cancelInKernel: (id: string) =>
    `It is still running: cancel it with %seedance cancel ${id} in a kernel that uses its service (as the notebook's kernel did).`,
  cancelling: 'Cancelling…',
  progress: 'Generating the video',
  estimate: (usd: string) => `est. ${usd}`,
  emulator: 'emulator',
  videoLabel: (prompt: string) => `Generated video: ${prompt}`,
  posterAlt: (prompt: string) => `First frame: ${prompt}`,
  videoNotHere: 'The video shows here once it is saved on the Jupyter server.',
  unknownJob: 'The server has no record of this job: showing the saved state.',
  notARequestId: 'This output names no valid request id.',
  remoteHeld: (host: string) =>
    `This notebook is not trusted, so its video at ${host} was not loaded.`,
  loadRemote: (host: string) => `Load the video from ${host}`,
  refreshFailed: (reason: string) =>
    `Showing the saved state; the server did not answer: ${reason}`,
  panelTitle: 'Seedance',
  panelCaption: 'Seedance Jobs',
  galleryTab: 'Gallery',
  statusFilter: 'Filter by status',
  notebookFilter: 'Filter by notebook',
  allStatuses: 'All statuses',
  running: 'Running',
  finished: 'Finished',
  succeeded: 'Succeeded',
  failedOrRefused: 'Failed or refused',
  cancelled: 'Cancelled',
  uncertain: 'Submission uncertain',
  allNotebooks: 'All notebooks',
  scopeFilter: "Show my jobs or the team's",
  mine: 'Mine',
  team: 'Team',
  byUser: (user: string) => `by ${user}`,
  spendByUser: 'This month by user',
  teamNotLive:
    "Only your own jobs update live: choose Team again to refresh everyone's.",
  missingNotebook: (path: string) => `${path} (no longer there)`,
  galleryTitle: 'Seedance Gallery',
  openGallery: 'Open Seedance Gallery',
  compareLabel: 'Compare',
  showOlder: 'Show older jobs',
  noJobs: 'No jobs yet. Run a %%seedance cell to make one.',
  noVideos: 'No finished videos yet.',
  play: 'Play',
  playJob: (prompt: string) => `Play: ${prompt}`,
  closePlayer: 'Close the player',
  copyId: 'Copy id',
  copyIdOf: (id: string) => `Copy request id ${id}`,
  copied: 'Copied',
  copy: 'Copy',
  requestIdTitle:
    'Request id: quote it to support, or check it with %seedance status',
  openNotebook: (path: string) => `Open notebook ${path}`,
  showFolder: (path: string) => `Show folder ${path} in the file browser`,
  selectForCompare: (prompt: string) => `Select for compare: ${prompt}`,
  compareHint: 'Pick 2 to 4 finished videos to compare.',
  compareTitle: 'Seedance Compare',
  playAll: 'Play all',
  pauseAll: 'Pause all',
  position: 'Position',
  today: 'Today',
  month: 'This month',
  ofBudget: (spent: string, budget: string) => `${spent} of ${budget}`,
  overBudget: 'over budget',
  disconnected: (why: string | null) =>
    why
      ? `Live updates paused (${why}): reconnecting…`
      : 'Live updates paused: reconnecting…',
  statusBar: (running: number, today: string) =>
    running > 0
      ? `Seedance: ${running} running · ${today} today`
      : `Seedance: ${today} today`,
  /** With the team gateway: the user's own and the whole team's spend today. */
  statusBarTeam: (running: number, you: string, team: string | null) =>
    `Seedance (team): ${running > 0 ? `${running} running · ` : ''}` +
    `you ${you} · team ${team ?? 'unknown'} today`,
  statusBarTitle: 'Seedance jobs: click to open the panel',
  /** "Insert Seedance Cell": flags and a comment, which the magic does not send. */
  newCell:
    '%%seedance -d 5 -r 720p -a 16:9\n' +
    '# Describe the video below (lines starting with # are not sent), then run the cell.\n',
  insertCell: 'Insert Seedance Cell',
  openForm: 'Open Seedance Form',
  openPanel: 'Show Seedance Jobs',
  compareCommand: (n: number) => `Compare Selected Takes (${n})`
} as const;
