# Persian UI text (unreviewed; review before field use).
app-name = ترن
nav-home = خانه
nav-subjects = افراد
nav-settings = تنظیمات
nav-lock = قفل
loading = در حال بارگذاری…
working = در حال انجام…
back = بازگشت
cancel = لغو
save = ذخیره

firstrun-title = راه‌اندازی این دستگاه
firstrun-intro = نشانی سرور و کد ثبت‌نامی را که مدیر به شما داده است وارد کنید.
firstrun-server = نشانی سرور
firstrun-code = کد ثبت‌نام
firstrun-enrol = ثبت این دستگاه
firstrun-enrolled = این دستگاه برای { $site } ثبت شده است.
firstrun-user-title = کاربر خود را بسازید
user-username = نام کاربری
user-display-name = نام کامل
user-password = گذرواژه
user-password-hint = دست‌کم ۸ نویسه. داده‌های این دستگاه را باز می‌کند و بازیابی‌شدنی نیست.
user-create = ساختن کاربر

unlock-title = چه کسی کار می‌کند؟
unlock-password = گذرواژه
unlock-submit = باز کردن قفل
unlock-add-user = افزودن کاربر در این دستگاه
unlock-offline-note = بدون شبکه کار می‌کند.

home-title = امروز
home-today = پرونده‌های امروز
home-drafts = پیش‌نویس‌ها
home-correction = نیازمند اصلاح
home-empty = چیزی نیست.
home-find = یافتن یا ثبت یک فرد
record-open = باز کردن
record-history = تاریخچه
record-conflicts = { $count ->
    [one] ۱ ناسازگاری
   *[other] { $count } ناسازگاری
}
record-unsynced = هنوز فرستاده نشده
record-returned = برگشت داده شد: { $comment }
status-draft = پیش‌نویس
status-submitted = ارسال‌شده
status-reviewed = بازبینی‌شده
status-locked = قفل‌شده
status-returned = برگشت برای اصلاح

sync-title = همگام‌سازی
sync-now = اکنون همگام کن
sync-idle = به‌روز
sync-connecting = در حال اتصال…
sync-pushing = در حال فرستادن تغییرات…
sync-pulling = در حال دریافت تغییرات…
sync-offline = آفلاین: کار ادامه دارد و همگام‌سازی منتظر شبکه است.
sync-error = همگام‌سازی ناموفق بود: { $message }
sync-revoked = این دستگاه لغو شد. داده‌هایش پاک شد.
sync-last = آخرین همگام‌سازی { $when }
sync-never = هرگز همگام نشده
sync-unproven = هنوز توسط سرور تأیید نشده: { $names }. کار آنها روی این دستگاه می‌ماند تا هر یک یک بار در حالی که دستگاه آنلاین است وارد شود.
sync-pending = { $count ->
    [0] چیزی برای فرستادن نیست
    [one] ۱ پرونده برای فرستادن
   *[other] { $count } پرونده برای فرستادن
}

subject-search-title = یافتن یک فرد
subject-search-label = نام، شناسه، شماره پرونده یا تاریخ تولد
subject-search-submit = جستجو
subject-no-results = کسی پیدا نشد.
subject-register-title = ثبت فرد تازه
subject-family-name = نام خانوادگی
subject-given-name = نام
subject-sex = جنس
sex-female = زن
sex-male = مرد
sex-other = دیگر
sex-unknown = نامعلوم
subject-dob = تاریخ تولد
subject-dob-precision = دقت تاریخ تولد
precision-exact = دقیق
precision-year_month = ماه و سال
precision-year = فقط سال
precision-estimated = تخمینی
subject-nationality = ملیت
subject-case-ref = شماره پرونده
subject-register = ثبت
subject-duplicate-title = شاید این فرد پیش‌تر ثبت شده باشد
subject-duplicate-intro = پیش از ثبت فرد تازه، این افراد را بررسی کنید.
subject-duplicate-use = همین فرد است
subject-duplicate-register-anyway = همان فرد نیست: ثبت کن
subject-start = آغاز یک فرم
subject-records = پرونده‌ها
subject-born = متولد { $date }

form-section-progress = { $answered } از { $total } پاسخ داده شده
form-overall-progress = بخش { $current } از { $total }
form-sections = بخش‌ها
form-prev = بخش پیشین
form-next = بخش بعدی
form-required = الزامی
form-missing = پاسخ ناقص است
form-saving = در حال ذخیره…
form-saved = ذخیره شد
form-save-failed = ذخیره نشد: { $message }
form-yes = بله
form-no = نه
form-clear = پاک کردن پاسخ
form-add = افزودن
form-remove = حذف
form-item = شماره { $n }
form-max-reached = حداکثر { $max }.
form-calculated = محاسبه‌شده
form-role-read-only = فقط نقش دیگری می‌تواند این را تغییر دهد
form-role-entered-by = واردکننده: { $roles }
role-screener = غربالگر
role-clinician = پزشک
role-supervisor = سرپرست
role-data_manager = مدیر داده
role-admin = مدیر سیستم
form-no-value = —
form-confirm-warning = مقدار درست است
form-warning-confirmed = تأیید شد
form-country-search = برای پالایش کشورها بنویسید
form-choose = انتخاب کنید…
form-restricted = بخش محدود
form-licensed = متن این ابزار برای هر استقرار نصب می‌شود.
form-language = زبان فرم
form-submit = ارسال
form-submit-title = پیش از ارسال
form-submit-missing = { $count ->
    [one] ۱ پاسخ ناقص است
   *[other] { $count } پاسخ ناقص است
}
form-submit-errors = { $count ->
    [one] ۱ پاسخ پذیرفته نیست
   *[other] { $count } پاسخ پذیرفته نیست
}
form-submit-warnings = { $count ->
    [one] ۱ هشدار برای تأیید
   *[other] { $count } هشدار برای تأیید
}
form-submit-complete = همه پاسخ‌ها کامل است.
form-submit-confirm = ارسال پرونده
form-submitted = ارسال شد. هنوز می‌توانید آن را اصلاح کنید؛ تاریخچه نگه داشته می‌شود.
form-go-to = برو به
form-action = { $message }
form-view-record = تاریخچه و ناسازگاری‌ها

record-title = پرونده
record-fields-title = پاسخ‌ها
record-conflicts-title = مقدارهای ناسازگار
record-conflict-by = { $user } در { $device }، { $when }
record-keep = این مقدار را نگه دار
record-history-title = تاریخچه { $field }
record-history-empty = هنوز تغییری نیست.
record-history-entry = { $user } در { $device }، { $when }
record-no-conflicts = ناسازگاری نیست.
record-hidden-kept = پنهان، نگه‌داشته
record-hidden-kept-hint = دیگر مرتبط نیست (پاسخی قبلی تغییر کرد): در پرونده نگه داشته می‌شود، اما هرگز پاسخ معتبر شمرده یا صادر نمی‌شود.
form-pick-account = یک نفر را انتخاب کنید
record-edit = ویرایش پاسخ‌ها
record-view-form = دیدن فرم

## Record status (the workflow moves tern-store offers)
status-title = وضعیت
status-no-moves = در این وضعیت کاری برای شما در این پرونده نیست.
status-explain-submitted = وقتی همهٔ پاسخ‌ها کامل شد، پرونده را برای بازبینی ارسال کنید.
status-explain-reviewed = پاسخ‌ها و تصمیم‌های بالینی را بررسی کرده‌اید؟ پرونده را به‌عنوان بازبینی‌شده امضا کنید.
status-explain-locked = پرونده را قفل کنید: تغییرات بعدی اصلاحیه می‌شوند، هر کدام با دلیل.
status-explain-returned = پرونده را با ذکر مواردی که باید اصلاح شود به غربالگر برگردانید.
status-comment = چه چیزی باید اصلاح شود
status-action-reviewed = امضا به‌عنوان بازبینی‌شده
status-action-locked = قفل کردن پرونده
status-action-returned = برگرداندن برای اصلاح
status-done-reviewed = به‌عنوان بازبینی‌شده امضا شد.
status-done-locked = قفل شد. تغییرات اکنون اصلاحیه‌اند.
status-done-returned = برای اصلاح برگردانده شد.

settings-title = تنظیمات
settings-language = زبان
settings-server = نشانی سرور
settings-lock-timeout = قفل پس از بی‌کاری (دقیقه)
settings-saved = تنظیمات ذخیره شد.
settings-device = دستگاه { $device } در { $site }

error-not_enrolled = این دستگاه هنوز ثبت نشده است.
error-enrolment_failed = ثبت ناموفق بود: { $message }
error-locked = قفل است. برای ادامه قفل را باز کنید.
error-wrong_password = گذرواژه نادرست است.
error-user_exists = این نام کاربری گرفته شده است.
error-not_found = پیدا نشد: { $message }
error-invalid_input = { $message }
error-forbidden = مجاز نیست: { $message }
error-conflict = جای دیگری تغییر کرد: { $message }
error-offline = دسترسی به سرور ممکن نیست.
error-revoked = این دستگاه لغو شد.
error-storage = ذخیره در این دستگاه ممکن نشد: { $message }
error-internal = مشکلی پیش آمد: { $message }

dash-title = داشبورد سرپرست
dash-sign-in = ورود
dash-username = نام کاربری
dash-password = گذرواژه
dash-sign-out = خروج
dash-review-title = پرونده‌های بازبینی
dash-review-empty = چیزی برای بازبینی نیست.
dash-signed-in = واردشده به نام { $name }
dash-reload = بارگذاری دوباره
dash-quiet-title = { $count ->
    [one] ۱ دستگاه بیش از یک روز همگام نشده
   *[other] { $count } دستگاه بیش از یک روز همگام نشده‌اند
}
dash-last-sync = آخرین همگام‌سازی { $when }
dash-never-synced = هرگز همگام نشده
dash-activity-title = فعالیت روزانه، { $days } روز اخیر
dash-activity-empty = در این روزها پرونده‌ای آغاز نشده است.
dash-day = روز
dash-site = مکان
dash-form = فرم
dash-total = جمع
dash-stale-title = { $count ->
    [one] ۱ پیش‌نویس بیش از یک روز مانده
   *[other] { $count } پیش‌نویس بیش از یک روز مانده
}
dash-hours = { $hours } ساعت
dash-undated = { $count ->
    [one] ۱ پرونده بدون تاریخ آغاز شمرده نشده است.
   *[other] { $count } پرونده بدون تاریخ آغاز شمرده نشده‌اند.
}
dash-open = باز کردن
dash-close = بستن
dash-entries = { $count ->
    [one] ۱ مورد
   *[other] { $count } مورد
}
dash-conflict = تعارض
dash-conflicts = { $count ->
    [one] ۱ پرونده با تعارض
   *[other] { $count } پرونده با تعارض
}
dash-counts-title = { $count ->
    [one] ۱ پرونده در مکان‌های شما
   *[other] { $count } پرونده در مکان‌های شما
}

# Likert scales, restricted sections, amendments, adding a user while locked
form-withheld = { $count ->
    [one] یک بخش محدود برای نقش شما نمایش داده نمی‌شود.
   *[other] { $count } بخش محدود برای نقش شما نمایش داده نمی‌شود.
}
form-amend-title = این پرونده قفل است
form-amend-explain = پرونده قفل است. دلیل اصلاح را وارد کنید. مقادیر اصلی در تاریخچه می‌مانند.
form-amend-reason = دلیل اصلاح
form-amend-start = اصلاح پرونده
form-amending = اصلاح: { $reason }
record-amendment = دلیل اصلاح: { $reason }
user-add-title = افزودن کاربر در این دستگاه
user-add-explain = پرونده‌های این دستگاه رمزگذاری شده‌اند. یک کارمند بهداشتی که از این دستگاه استفاده می‌کند کاربر جدید را با رمز عبور خود تأیید می‌کند تا رمز عبور کاربر جدید همان پرونده‌ها را باز کند. هیچ‌کس باز نمی‌ماند. از نام کاربری حساب سرور خود استفاده کنید.
user-add-confirm-by = تأیید توسط
user-add-confirm-password = رمز عبور او
alerts-title = هشدارها و کارها
alerts-empty = هشدار بازی وجود ندارد.
alerts-due = موعد { $when }
alerts-overdue = دیرکرد از { $when }
alerts-raised = ثبت شده { $when }
alert-kind-tb_suspect = مشکوک به سل: پیگیری
alert-kind-notifiable_alert = بیماری قابل گزارش: به مقامات اطلاع دهید
alert-kind-isolation = جداسازی

# Reports (issue 17), unreviewed draft
dash-overview = نمای کلی
rep-title = گزارش‌ها
rep-name-daily = فعالیت روزانه
rep-name-tb_suspects = موارد مشکوک به سل
rep-name-alerts = هشدارها
rep-name-vulnerability = ارجاع‌های آسیب‌پذیری
rep-name-vaccination = پوشش واکسیناسیون
rep-name-test_uptake = پذیرش آزمایش‌ها
rep-name-incomplete = پرونده‌های ناقص
rep-name-conflicts = پرونده‌های متعارض
rep-from = از
rep-until = تا
rep-all = همه
rep-apply = نمایش
rep-csv = دریافت CSV
rep-empty = هیچ پرونده‌ای با این فیلتر مطابقت ندارد.
rep-yes = بله
rep-no = خیر
rep-note-alerts_from_rules = هشدارها از قواعد فعال‌شده و بخش هشدار هر پرونده خوانده می‌شوند.
rep-note-sensitive_categories_not_projected = دسته‌های حساس محدود هستند و اینجا شمرده نمی‌شوند.
rep-note-restricted_tests_not_projected = آزمایش‌های محدود (اچ‌آی‌وی) اینجا شمرده نمی‌شوند.
rep-col-outcome = نتیجه: { $outcome }
rep-col-day = روز
rep-col-site = محل
rep-col-form = فرم
rep-col-total = مجموع
rep-col-draft = پیش‌نویس
rep-col-submitted = ارسال‌شده
rep-col-reviewed = بازبینی‌شده
rep-col-returned = برگشتی
rep-col-locked = قفل‌شده
rep-col-refused = رد شده
rep-col-record = پرونده
rep-col-subject = فرد
rep-col-name = نام
rep-col-screening_date = تاریخ غربالگری
rep-col-age_band = گروه سنی
rep-col-reasons = دلیل
rep-col-cxr_result = عکس قفسه سینه
rep-col-culture_pending = کشت در انتظار
rep-col-classification = طبقه‌بندی
rep-col-days_since = روز گذشته
rep-col-referral = ارجاع
rep-col-disease = بیماری
rep-col-rules = قواعد
rep-col-raised_at = زمان ثبت
rep-col-deadline = مهلت
rep-col-hours_left = ساعت باقی‌مانده
rep-col-status = وضعیت
rep-col-notified_at = زمان اطلاع
rep-col-isolation = جداسازی
rep-col-contacts = تماس‌ها
rep-col-category = دسته
rep-col-subjects = افراد
rep-col-no_referral = بدون ارجاع
rep-col-referral_open = ارجاع باز
rep-col-referral_completed = ارجاع تکمیل‌شده
rep-col-antigen = آنتی‌ژن
rep-col-records = پرونده‌ها
rep-col-documented = مستند
rep-col-documented_pct = مستند ٪
rep-col-verbal_only = فقط شفاهی
rep-col-none = هیچ
rep-col-doses_given_here = دوزهای تزریق‌شده اینجا
rep-col-catchup_due = جبرانی سررسید
rep-col-catchup_overdue = جبرانی معوق
rep-col-test = آزمایش
rep-col-eligible = واجد شرایط
rep-col-offered = پیشنهادشده
rep-col-accepted = پذیرفته
rep-col-positive = مثبت
rep-col-linked_to_care = متصل به مراقبت
rep-col-missing = پاسخ‌های ناقص
rep-col-missing_fields = فیلدهای ناقص
rep-col-errors = خطاها
rep-col-open_warnings = هشدارهای باز
rep-col-overridden_warnings = هشدارهای تأییدشده
rep-col-stale_draft = پیش‌نویس بیش از ۲۴ ساعت
rep-col-suspects = موارد مشکوک
rep-col-alerts = هشدارها

## Team hub
nav-hub = هاب تیم
hub-title = هاب تیم
hub-intro = این رایانه را به‌عنوان هاب تیم میدانی خود اجرا کنید: دستگاه‌های تیم بدون اینترنت از طریق شبکهٔ محلی با آن همگام می‌شوند و هر وقت به سرور دسترسی داشته باشد، کارشان را به سرور می‌فرستد.
hub-not-supervisor = فقط سرپرست می‌تواند هاب تیم را اجرا کند.
hub-setup-code = کد ثبت هاب
hub-setup-help = فقط بار اول: مدیر سرور این کد را برای حساب شما می‌سازد. پس از آن هاب با رمز عبور شما شروع می‌شود.
hub-start = شروع هاب تیم
hub-starting = در حال شروع…
hub-stop = توقف هاب
hub-connect = ثبت یک دستگاه تیم
hub-connect-help = روی دستگاه، نشانی و کد را وارد کنید یا کد QR را اسکن کنید. دستگاه پیش از فرستادن هر چیزی اثر انگشت هاب را بررسی می‌کند.
hub-address = نشانی
hub-code = کد (یک‌بارمصرف)
hub-fingerprint = اثر انگشت
hub-qr-alt = کد QR با نشانی هاب و کد ثبت
hub-new-code = کد جدید
hub-upstream = همگام‌سازی با سرور
hub-sync-now = اکنون همگام کن
hub-upstream-idle = در انتظار همگام‌سازی بعدی.
hub-upstream-syncing = در حال همگام‌سازی با سرور…
hub-upstream-failed = دسترسی به سرور ممکن نشد: { $message }. هاب خودش دوباره تلاش می‌کند.
hub-upstream-revoked = سرور این هاب را لغو کرد. داده‌های آن پاک شد.
hub-progress = { $pushed } از { $total } تغییر فرستاده شد، { $received } پرونده دریافت شد
hub-pending = { $count ->
    [0] چیزی در انتظار سرور نیست
    [one] ۱ تغییر در انتظار سرور
   *[other] { $count } تغییر در انتظار سرور
}
hub-devices = دستگاه‌های تیم
hub-no-devices = هنوز هیچ دستگاهی در این هاب ثبت نشده است.
hub-device-user = ثبت‌شده توسط
hub-device-id = دستگاه
hub-device-site = محل
hub-device-last = آخرین همگام‌سازی
hub-device-never = هنوز همگام نشده
hub-device-revoked = لغوشده

## Bundles
bundle-open = تبادل با USB یا فایل
bundle-title = تبادل با USB یا فایل
bundle-intro = وقتی هیچ شبکه‌ای نیست، یک فایل کار را جابه‌جا می‌کند: تغییرات این دستگاه را برای هاب یا سرور روی USB بنویسید و فایلی را که آن‌ها برمی‌گردانند بخوانید. فایل‌ها برای گیرنده رمزگذاری و امضا می‌شوند؛ فایل تغییرکرده یا بیگانه پذیرفته نمی‌شود.
bundle-usb = درایو USB
bundle-export = تغییرات را اینجا بنویس
bundle-import = این فایل را بخوان
bundle-no-files = اینجا فایل بسته‌ای نیست.
bundle-no-places = هیچ USB یا پوشه‌ای پیدا نشد: یک USB وصل کنید.
bundle-peer = برای
bundle-writing = در حال نوشتن بسته… { $done } صفحه
bundle-reading = در حال خواندن بسته… { $done } از { $total } صفحه
bundle-written = بسته نوشته شد: { $changes } تغییر در { $records } پرونده، { $size }.
bundle-read = بسته خوانده شد: { $changes } تغییر تازه در { $records } پرونده.
bundle-again = این بسته پیش‌تر خوانده شده است؛ چیزی تغییر نکرد.

# Quarantine review (issue 13)
quar-title = قرنطینه
quar-explain = تغییراتی که سرور رد کرد، چون نقش نویسنده‌شان اجازهٔ آن‌ها را نمی‌دهد. یکی را آزاد کنید تا با این حال ادغام شود (مثلاً پزشک آن را دیکته کرده است)، یا رد کنید تا برای همیشه کنار بماند. سرور ثبت می‌کند چه کسی و چرا تصمیم گرفت.
quar-empty = چیزی در انتظار تصمیم نیست.
quar-kind = { $kind }
quar-authors = { $count ->
    [one] ۱ تغییر از { $names }
   *[other] { $count } تغییر از { $names }
}
quar-release = آزاد کردن…
quar-reject = رد کردن…
quar-confirm-release = { $count } تغییر قرنطینه‌شده از { $names } در پرونده ادغام شود؟ همهٔ دستگاه‌های این مرکز آن‌ها را دریافت می‌کنند.
quar-confirm-reject = { $count } تغییر قرنطینه‌شده از { $names } برای همیشه کنار گذاشته شود؟ پس از آن هرگز ادغام نمی‌شوند.
quar-reason = دلیل
quar-reason-hint = یک خط برای گزارش دسترسی: چه کسی خواست، چه چیزی را بررسی کردید. هرگز اطلاعات سلامت ننویسید.
quar-cancel = انصراف
quar-do-release = آزاد کردن
quar-do-reject = رد کردن
quar-released = آزاد شد: تغییرات { $doc } ادغام شد و به دستگاه‌ها می‌رسد.
quar-rejected = رد شد: تغییرات { $doc } کنار گذاشته می‌مانند.

rep-bounded = { $shown } ردیف نخست از { $total } ردیف؛ نمودار همه را می‌شمارد و فایل CSV همه را فهرست می‌کند.

## Exports (issue 18)
exp-title = خروجی‌ها
exp-explain = داده برای مقام‌های بهداشتی و پزشکان کشور مقصد، بر اساس هدف: فقط پرونده‌هایی که رضایت یا مبنای قانونی آن‌ها این هدف را پوشش می‌دهد، با نام مستعار برای هر گیرنده. داده‌های هویتی و بخش‌های محدود به درخواستی نیاز دارند که سرپرست سایت‌ها تأیید کند. هر خروجی در گزارش دسترسی ثبت می‌شود.
exp-explain-supervisor = مدیران داده در اینجا داده‌های هویتی یا بخش‌های محدود را درخواست می‌کنند؛ سرپرست هر سایت درخواست آن را تأیید می‌کند. فقط آنچه هدف لازم دارد تأیید کنید.
exp-format = قالب
exp-format-csv = CSV (فایل zip، یک فایل برای هر نسخه فرم)
exp-format-fhir = بسته FHIR R4 (JSON)
exp-format-fhir-ndjson = منابع FHIR R4 (NDJSON)
exp-purpose = هدف
exp-purpose-screening = غربالگری
exp-purpose-share_destination = اشتراک با کشور مقصد
exp-purpose-research = پژوهش
exp-purpose-notifiable_disease = هشدار بیماری گزارش‌دادنی
exp-recipient = گیرنده
exp-no-recipient = هیچ (فایل رمزگذاری نمی‌شود)
exp-sites = سایت‌ها
exp-all-sites = اگر چیزی انتخاب نشود: همه سایت‌های شما.
exp-protection = فراتر از داده‌های با نام مستعار
exp-identified = داده‌های هویتی
exp-restricted = بخش‌های محدود
exp-approval = تأیید
exp-no-approval = هیچ
exp-download = خروجی گرفتن
exp-request = درخواست تأیید
exp-progress = { $kib } کیلوبایت از { $count } پرونده دریافت شد
exp-done = { $name } ذخیره شد: { $count } پرونده با فیلتر جور است؛ پرونده‌هایی که رضایت یا مبنای قانونی آن‌ها هدف را پوشش نمی‌دهد کنار گذاشته می‌شوند (خلاصه خروجی آن‌ها را می‌شمارد).
exp-requested = درخواست { $id } منتظر تأیید سرپرست است.
exp-approved = درخواست { $id } تأیید شد.
exp-approvals = تأییدها
exp-approvals-empty = درخواستی نیست.
exp-requested-by = درخواست از { $name }
exp-approved-by = تأیید شده توسط { $name }
exp-approve = تأیید
exp-waiting = منتظر سرپرست
