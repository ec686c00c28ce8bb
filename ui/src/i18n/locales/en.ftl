app-name = Tern
nav-home = Home
nav-subjects = People
nav-settings = Settings
nav-lock = Lock
loading = Loading…
working = Working…
back = Back
cancel = Cancel
save = Save

## First run
firstrun-title = Set up this device
firstrun-intro = Enter the server address and the enrolment code your administrator gave you.
firstrun-server = Server address
firstrun-code = Enrolment code
firstrun-enrol = Enrol this device
firstrun-enrolled = This device is enrolled for { $site }.
firstrun-user-title = Create your user
user-username = User name
user-display-name = Full name
user-password = Password
user-password-hint = At least 8 characters. It unlocks the data on this device and cannot be recovered.
user-create = Create user

## Unlock
unlock-title = Who is working?
unlock-password = Password
unlock-submit = Unlock
unlock-add-user = Add a user on this device
unlock-offline-note = Works without network.

## Home
home-title = Today
home-today = Today's records
home-drafts = Drafts
home-correction = Needing correction
home-empty = Nothing here.
home-find = Find or register a person
record-open = Open
record-history = History
record-conflicts = { $count ->
    [one] 1 conflict
   *[other] { $count } conflicts
}
record-unsynced = Not yet sent
record-returned = Returned: { $comment }
status-draft = Draft
status-submitted = Submitted
status-reviewed = Reviewed
status-locked = Locked
status-returned = Returned for correction

## Sync
sync-title = Sync
sync-now = Sync now
sync-idle = Up to date
sync-connecting = Connecting…
sync-pushing = Sending changes…
sync-pulling = Receiving changes…
sync-offline = Offline: work continues, sync waits for the network.
sync-error = Sync failed: { $message }
sync-revoked = This device was revoked. Its data has been wiped.
sync-last = Last sync { $when }
sync-never = Never synced
sync-unproven = Not yet confirmed by the server: { $names }. Their work stays on this device until each of them signs in once while the device is online.
sync-pending = { $count ->
    [0] Nothing to send
    [one] 1 record to send
   *[other] { $count } records to send
}

## Subjects
subject-search-title = Find a person
subject-search-label = Name, ID, case number or date of birth
subject-search-submit = Search
subject-no-results = No one found.
subject-register-title = Register a new person
subject-family-name = Family name
subject-given-name = Given name
subject-sex = Sex
sex-female = Female
sex-male = Male
sex-other = Other
sex-unknown = Unknown
subject-dob = Date of birth
subject-dob-precision = Date of birth is
precision-exact = Exact
precision-year_month = Month and year
precision-year = Year only
precision-estimated = Estimated
subject-nationality = Nationality
subject-case-ref = Case number
subject-register = Register
subject-duplicate-title = This person may be registered already
subject-duplicate-intro = Check these people before registering a new one.
subject-duplicate-use = This is the person
subject-duplicate-register-anyway = Not the same person: register
subject-start = Start a form
subject-records = Records
subject-born = Born { $date }

## Form
form-section-progress = { $answered } of { $total } answered
form-overall-progress = Section { $current } of { $total }
form-sections = Sections
form-prev = Previous section
form-next = Next section
form-required = Required
form-missing = Answer missing
form-saving = Saving…
form-saved = Saved
form-save-failed = Not saved: { $message }
form-yes = Yes
form-no = No
form-clear = Clear answer
form-add = Add
form-remove = Remove
form-item = No. { $n }
form-max-reached = At most { $max }.
form-calculated = Calculated
form-role-read-only = Only another role may change this
form-role-entered-by = Entered by: { $roles }
role-screener = screener
role-clinician = clinician
role-supervisor = supervisor
role-data_manager = data manager
role-admin = administrator
form-no-value = —
form-confirm-warning = The value is right
form-warning-confirmed = Confirmed
form-country-search = Type to filter countries
form-choose = Choose…
form-restricted = Restricted section
form-licensed = The wording of this instrument is installed per deployment.
form-language = Form language
form-submit = Submit
form-submit-title = Before submitting
form-submit-missing = { $count ->
    [one] 1 answer is missing
   *[other] { $count } answers are missing
}
form-submit-errors = { $count ->
    [one] 1 answer is not accepted
   *[other] { $count } answers are not accepted
}
form-submit-warnings = { $count ->
    [one] 1 warning to confirm
   *[other] { $count } warnings to confirm
}
form-submit-complete = Every answer is complete.
form-submit-confirm = Submit the record
form-submitted = Submitted. You can still correct it; the history is kept.
form-go-to = Go to
form-action = { $message }
form-view-record = History and conflicts

## Record
record-title = Record
record-fields-title = Answers
record-conflicts-title = Conflicting values
record-conflict-by = { $user } on { $device }, { $when }
record-keep = Keep this value
record-history-title = History of { $field }
record-history-empty = No changes yet.
record-history-entry = { $user } on { $device }, { $when }
record-no-conflicts = No conflicts.
record-hidden-kept = Hidden, kept
record-hidden-kept-hint = Not relevant any more (an earlier answer changed): kept in the record, never counted or exported as a valid answer.
form-pick-account = Choose a person
record-edit = Edit answers
record-view-form = View the form

## Record status (the workflow moves tern-store offers)
status-title = Status
status-no-moves = Nothing for you to do on this record at this status.
status-explain-submitted = When every answer is complete, submit the record for review.
status-explain-reviewed = Checked the answers and the clinical decisions? Sign the record as reviewed.
status-explain-locked = Lock the record: later changes become amendments, each with a reason.
status-explain-returned = Send the record back to the screener, saying what to correct.
status-comment = What to correct
status-action-reviewed = Sign as reviewed
status-action-locked = Lock the record
status-action-returned = Return for correction
status-done-reviewed = Signed as reviewed.
status-done-locked = Locked. Changes are now amendments.
status-done-returned = Returned for correction.

## Settings
settings-title = Settings
settings-language = Language
settings-server = Server address
settings-lock-timeout = Lock after inactivity (minutes)
settings-saved = Settings saved.
settings-device = Device { $device } at { $site }

## Errors
error-not_enrolled = This device is not enrolled yet.
error-enrolment_failed = Enrolment failed: { $message }
error-locked = Locked. Unlock to continue.
error-wrong_password = Wrong password.
error-user_exists = This user name is taken.
error-not_found = Not found: { $message }
error-invalid_input = { $message }
error-forbidden = Not allowed: { $message }
error-conflict = Changed elsewhere: { $message }
error-offline = The server cannot be reached.
error-revoked = This device was revoked.
error-storage = Could not save on this device: { $message }
error-internal = Something went wrong: { $message }

## Dashboard
dash-title = Supervisor dashboard
dash-sign-in = Sign in
dash-username = User name
dash-password = Password
dash-sign-out = Sign out
dash-review-title = Records to review
dash-review-empty = Nothing to review.
dash-signed-in = Signed in as { $name }
dash-reload = Reload
dash-quiet-title = { $count ->
    [one] 1 device not synced for over a day
   *[other] { $count } devices not synced for over a day
}
dash-last-sync = Last sync { $when }
dash-never-synced = Never synced
dash-activity-title = Daily activity, last { $days } days
dash-activity-empty = No records started in these days.
dash-day = Day
dash-site = Site
dash-form = Form
dash-total = Total
dash-stale-title = { $count ->
    [one] 1 draft left for more than a day
   *[other] { $count } drafts left for more than a day
}
dash-hours = { $hours } h
dash-undated = { $count ->
    [one] 1 record without a known start is not counted.
   *[other] { $count } records without a known start are not counted.
}
dash-open = Open
dash-close = Close
dash-entries = { $count ->
    [one] 1 entry
   *[other] { $count } entries
}
dash-conflict = Conflict
dash-conflicts = { $count ->
    [one] 1 with a conflict
   *[other] { $count } with conflicts
}
dash-counts-title = { $count ->
    [one] 1 record at your sites
   *[other] { $count } records at your sites
}

# Likert scales, restricted sections, amendments, adding a user while locked
form-withheld = { $count ->
    [one] One restricted section is not shown for your role.
   *[other] { $count } restricted sections are not shown for your role.
}
form-amend-title = This record is locked
form-amend-explain = Record is locked. Enter a reason for the amendment. The original values stay in the history.
form-amend-reason = Reason for the amendment
form-amend-start = Amend the record
form-amending = Amendment: { $reason }
record-amendment = Amendment reason: { $reason }
user-add-title = Add a user on this device
user-add-explain = The records on this device are encrypted. A health worker who already uses this device confirms the new user with their password, so the new user's password opens the same records. Nobody stays unlocked. Use the user name of your server account.
user-add-confirm-by = Confirmed by
user-add-confirm-password = Their password
alerts-title = Alerts and tasks
alerts-empty = No open alerts.
alerts-due = Due { $when }
alerts-overdue = Overdue since { $when }
alerts-raised = Raised { $when }
alert-kind-tb_suspect = TB suspect: follow-up
alert-kind-notifiable_alert = Notifiable disease: alert the authority
alert-kind-isolation = Isolation

# Reports (issue 17)
dash-overview = Overview
rep-title = Reports
rep-name-daily = Daily activity
rep-name-tb_suspects = TB suspects
rep-name-alerts = Alerts
rep-name-vulnerability = Vulnerability referrals
rep-name-vaccination = Vaccination coverage
rep-name-test_uptake = Test uptake
rep-name-incomplete = Incomplete records
rep-name-conflicts = Conflicting records
rep-from = From
rep-until = Until
rep-all = All
rep-apply = Show
rep-csv = Download CSV
rep-empty = No records match this filter.
rep-yes = yes
rep-no = no
rep-note-alerts_from_rules = Alerts are the ones the rules of each record raise, as the device lists them, with the alert section of each record.
rep-note-sensitive_categories_not_projected = Sensitive categories (mental health, LGBTI, trafficking, violence, FGM) are restricted and not counted here.
rep-note-restricted_tests_not_projected = Restricted tests (HIV) are not counted here.
rep-col-outcome = Outcome: { $outcome }
rep-col-day = Day
rep-col-site = Site
rep-col-form = Form
rep-col-total = Total
rep-col-draft = Draft
rep-col-submitted = Submitted
rep-col-reviewed = Reviewed
rep-col-returned = Returned
rep-col-locked = Locked
rep-col-refused = Refused
rep-col-record = Record
rep-col-subject = Subject
rep-col-name = Name
rep-col-screening_date = Screening date
rep-col-age_band = Age band
rep-col-reasons = Why
rep-col-cxr_result = Chest X-ray
rep-col-culture_pending = Culture pending
rep-col-classification = Classification
rep-col-days_since = Days since
rep-col-referral = Referral
rep-col-disease = Disease
rep-col-rules = Rules
rep-col-raised_at = Raised at
rep-col-deadline = Deadline
rep-col-hours_left = Hours left
rep-col-status = Status
rep-col-notified_at = Notified at
rep-col-isolation = Isolation
rep-col-contacts = Contacts
rep-col-category = Category
rep-col-subjects = People
rep-col-no_referral = No referral
rep-col-referral_open = Referral open
rep-col-referral_completed = Referral completed
rep-col-antigen = Antigen
rep-col-records = Records
rep-col-documented = Documented
rep-col-documented_pct = Documented %
rep-col-verbal_only = Verbal only
rep-col-none = None
rep-col-doses_given_here = Doses given here
rep-col-catchup_due = Catch-up due
rep-col-catchup_overdue = Catch-up overdue
rep-col-test = Test
rep-col-eligible = Eligible
rep-col-offered = Offered
rep-col-accepted = Accepted
rep-col-positive = Positive
rep-col-linked_to_care = Linked to care
rep-col-missing = Missing answers
rep-col-missing_fields = Missing fields
rep-col-errors = Errors
rep-col-open_warnings = Open warnings
rep-col-overridden_warnings = Overridden warnings
rep-col-stale_draft = Draft over 24 h
rep-col-suspects = Suspects
rep-col-alerts = Alerts

## Team hub (a supervisor's app serving the field team)
nav-hub = Team hub
hub-title = Team hub
hub-intro = Run this computer as the hub of your field team: the team's devices sync with it over the local network, with no internet, and it passes their work on to the server whenever it can reach it.
hub-not-supervisor = Only a supervisor runs a team hub.
hub-setup-code = Hub enrolment code
hub-setup-help = The first time only: an administrator of the server makes this code for your account. After that the hub starts with your password.
hub-start = Start the team hub
hub-starting = Starting…
hub-stop = Stop the hub
hub-connect = Enrol a team device
hub-connect-help = On the device, enter the address and the code, or scan the QR code. The device checks the hub's fingerprint before it sends anything.
hub-address = Address
hub-code = Code (single use)
hub-fingerprint = Fingerprint
hub-qr-alt = QR code with the hub's address and enrolment code
hub-new-code = New code
hub-upstream = Sync with the server
hub-sync-now = Sync now
hub-upstream-idle = Waiting for the next sync.
hub-upstream-syncing = Syncing with the server…
hub-upstream-failed = The server could not be reached: { $message }. The hub tries again on its own.
hub-upstream-revoked = The server revoked this hub. Its data has been erased.
hub-progress = { $pushed } of { $total } changes sent, { $received } records received
hub-pending = { $count ->
    [0] Nothing waiting for the server
    [one] 1 change waiting for the server
   *[other] { $count } changes waiting for the server
}
hub-devices = The team's devices
hub-no-devices = No device has enrolled with this hub yet.
hub-device-user = Enrolled by
hub-device-id = Device
hub-device-site = Site
hub-device-last = Last sync
hub-device-never = Not synced yet
hub-device-revoked = Revoked

## Bundles (sync by file)
bundle-open = Exchange by USB or file
bundle-title = Exchange by USB or file
bundle-intro = With no network at all, a file carries the work: write this device's changes to a USB stick for the hub or server, and read the file they wrote back. Files are encrypted to their recipient and signed; a changed or foreign file is refused.
bundle-usb = USB drive
bundle-export = Write changes here
bundle-import = Read this file
bundle-no-files = No bundle files here.
bundle-no-places = No USB drive or folder found: insert a USB stick.
bundle-peer = For
bundle-writing = Writing the bundle… { $done } pages
bundle-reading = Reading the bundle… { $done } of { $total } pages
bundle-written = Bundle written: { $changes } changes of { $records } records, { $size }.
bundle-read = Bundle read: { $changes } new changes in { $records } records.
bundle-again = This bundle was read before; nothing changed.

# Quarantine review (issue 13)
quar-title = Quarantine
quar-explain = Changes the server refused because their author's role may not make them. Release one to merge it anyway (for example a clinician dictated it), or reject it to keep it out for good. The server records who decided and why.
quar-empty = Nothing waits for a decision.
quar-kind = { $kind }
quar-authors = { $count ->
    [one] 1 change by { $names }
   *[other] { $count } changes by { $names }
}
quar-release = Release…
quar-reject = Reject…
quar-confirm-release = Merge { $count } quarantined change(s) by { $names } into the record? Every device of the site will receive them.
quar-confirm-reject = Keep { $count } quarantined change(s) by { $names } out for good? They can never be merged afterwards.
quar-reason = Why
quar-reason-hint = One line, for the access log: who asked, what you checked. Never a health value.
quar-cancel = Cancel
quar-do-release = Release
quar-do-reject = Reject
quar-released = Released: the changes of { $doc } are merged and will reach the devices.
quar-rejected = Rejected: the changes of { $doc } stay out.

rep-bounded = The first { $shown } of { $total } rows; the chart counts them all, and the CSV download lists them all.

## Exports (issue 18)
exp-title = Exports
exp-explain = Data for health authorities and receiving clinicians, by purpose: only records whose consent or legal basis covers the purpose, pseudonymised per recipient. Identified data and restricted sections need a request that a supervisor of the sites approves. Every export is in the access log.
exp-explain-supervisor = Data managers ask for identified data or restricted sections here; a supervisor of every site of the request approves it. Approve only what the purpose needs.
exp-format = Format
exp-format-csv = CSV (zip, one file per form version)
exp-format-fhir = FHIR R4 bundle (JSON)
exp-format-fhir-ndjson = FHIR R4 resources (NDJSON)
exp-purpose = Purpose
exp-purpose-screening = Screening
exp-purpose-share_destination = Sharing with the destination country
exp-purpose-research = Research
exp-purpose-notifiable_disease = Notifiable disease alert
exp-recipient = Recipient
exp-no-recipient = None (the file is not encrypted)
exp-sites = Sites
exp-all-sites = None ticked: all your sites.
exp-protection = Beyond pseudonymised data
exp-identified = Identified data
exp-restricted = Restricted sections
exp-approval = Approval
exp-no-approval = None
exp-download = Export
exp-request = Ask for approval
exp-progress = { $kib } KiB received of { $count } records
exp-done = Saved { $name }: { $count } records matched the filter; those whose consent or legal basis does not cover the purpose are left out (the export's summary counts them).
exp-requested = Request { $id } waits for a supervisor's approval.
exp-approved = Request { $id } is approved.
exp-approvals = Approvals
exp-approvals-empty = No requests.
exp-requested-by = asked by { $name }
exp-approved-by = approved by { $name }
exp-approve = Approve
exp-waiting = Waits for a supervisor
