# Arabic UI text (unreviewed machine-quality translation; review before field use).
app-name = تيرن
nav-home = الرئيسية
nav-subjects = الأشخاص
nav-settings = الإعدادات
nav-lock = قفل
loading = جارٍ التحميل…
working = جارٍ العمل…
back = رجوع
cancel = إلغاء
save = حفظ

firstrun-title = إعداد هذا الجهاز
firstrun-intro = أدخل عنوان الخادم ورمز التسجيل الذي أعطاك إياه المسؤول.
firstrun-server = عنوان الخادم
firstrun-code = رمز التسجيل
firstrun-enrol = تسجيل هذا الجهاز
firstrun-enrolled = هذا الجهاز مسجّل لـ { $site }.
firstrun-user-title = أنشئ مستخدمك
user-username = اسم المستخدم
user-display-name = الاسم الكامل
user-password = كلمة المرور
user-password-hint = ثمانية أحرف على الأقل. تفتح البيانات على هذا الجهاز ولا يمكن استعادتها.
user-create = إنشاء المستخدم

unlock-title = من يعمل الآن؟
unlock-password = كلمة المرور
unlock-submit = فتح القفل
unlock-add-user = إضافة مستخدم على هذا الجهاز
unlock-offline-note = يعمل دون اتصال بالشبكة.

home-title = اليوم
home-today = سجلات اليوم
home-drafts = المسودات
home-correction = تحتاج إلى تصحيح
home-empty = لا شيء هنا.
home-find = البحث عن شخص أو تسجيله
record-open = فتح
record-history = السجل التاريخي
record-conflicts = { $count ->
    [one] تعارض واحد
   *[other] { $count } تعارضات
}
record-unsynced = لم يُرسل بعد
record-returned = أُعيد: { $comment }
status-draft = مسودة
status-submitted = مُرسل
status-reviewed = تمت مراجعته
status-locked = مقفل
status-returned = أُعيد للتصحيح

sync-title = المزامنة
sync-now = زامن الآن
sync-idle = محدّث
sync-connecting = جارٍ الاتصال…
sync-pushing = جارٍ إرسال التغييرات…
sync-pulling = جارٍ استلام التغييرات…
sync-offline = غير متصل: يستمر العمل، وتنتظر المزامنة الشبكة.
sync-error = فشلت المزامنة: { $message }
sync-revoked = أُلغي هذا الجهاز. مُسحت بياناته.
sync-last = آخر مزامنة { $when }
sync-never = لم تتم المزامنة قط
sync-unproven = لم يؤكد الخادم بعد: { $names }. يبقى عملهم على هذا الجهاز حتى يسجّل كل منهم الدخول مرة واحدة والجهاز متصل بالشبكة.
sync-pending = { $count ->
    [0] لا شيء للإرسال
    [one] سجل واحد للإرسال
   *[other] { $count } سجلات للإرسال
}

subject-search-title = البحث عن شخص
subject-search-label = الاسم أو المعرّف أو رقم الملف أو تاريخ الميلاد
subject-search-submit = بحث
subject-no-results = لم يُعثر على أحد.
subject-register-title = تسجيل شخص جديد
subject-family-name = اسم العائلة
subject-given-name = الاسم الأول
subject-sex = الجنس
sex-female = أنثى
sex-male = ذكر
sex-other = آخر
sex-unknown = غير معروف
subject-dob = تاريخ الميلاد
subject-dob-precision = دقة تاريخ الميلاد
precision-exact = دقيق
precision-year_month = الشهر والسنة
precision-year = السنة فقط
precision-estimated = تقديري
subject-nationality = الجنسية
subject-case-ref = رقم الملف
subject-register = تسجيل
subject-duplicate-title = قد يكون هذا الشخص مسجّلًا من قبل
subject-duplicate-intro = تحقق من هؤلاء الأشخاص قبل تسجيل شخص جديد.
subject-duplicate-use = هذا هو الشخص
subject-duplicate-register-anyway = ليس الشخص نفسه: سجّل
subject-start = بدء استمارة
subject-records = السجلات
subject-born = مواليد { $date }

form-section-progress = أُجيب عن { $answered } من { $total }
form-overall-progress = القسم { $current } من { $total }
form-sections = الأقسام
form-prev = القسم السابق
form-next = القسم التالي
form-required = مطلوب
form-missing = الإجابة ناقصة
form-saving = جارٍ الحفظ…
form-saved = حُفظ
form-save-failed = لم يُحفظ: { $message }
form-yes = نعم
form-no = لا
form-clear = مسح الإجابة
form-add = إضافة
form-remove = حذف
form-item = رقم { $n }
form-max-reached = { $max } على الأكثر.
form-calculated = محسوب
form-role-read-only = لا يغيّر هذا إلا دور آخر
form-role-entered-by = يُدخله: { $roles }
role-screener = فاحص
role-clinician = طبيب
role-supervisor = مشرف
role-data_manager = مدير البيانات
role-admin = مسؤول النظام
form-no-value = —
form-confirm-warning = القيمة صحيحة
form-warning-confirmed = تم التأكيد
form-country-search = اكتب لتصفية البلدان
form-choose = اختر…
form-restricted = قسم مقيّد
form-licensed = تُثبَّت صياغة هذه الأداة لكل عملية نشر.
form-language = لغة الاستمارة
form-submit = إرسال
form-submit-title = قبل الإرسال
form-submit-missing = { $count ->
    [one] إجابة واحدة ناقصة
   *[other] { $count } إجابات ناقصة
}
form-submit-errors = { $count ->
    [one] إجابة واحدة غير مقبولة
   *[other] { $count } إجابات غير مقبولة
}
form-submit-warnings = { $count ->
    [one] تحذير واحد يحتاج إلى تأكيد
   *[other] { $count } تحذيرات تحتاج إلى تأكيد
}
form-submit-complete = كل الإجابات مكتملة.
form-submit-confirm = أرسل السجل
form-submitted = أُرسل. لا يزال بإمكانك تصحيحه؛ ويُحفظ السجل التاريخي.
form-go-to = انتقل إلى
form-action = { $message }
form-view-record = السجل التاريخي والتعارضات

record-title = السجل
record-fields-title = الإجابات
record-conflicts-title = قيم متعارضة
record-conflict-by = { $user } على { $device }، { $when }
record-keep = احتفظ بهذه القيمة
record-history-title = تاريخ { $field }
record-history-empty = لا تغييرات بعد.
record-history-entry = { $user } على { $device }، { $when }
record-no-conflicts = لا تعارضات.
record-hidden-kept = مخفي، محفوظ
record-hidden-kept-hint = لم يعد ذا صلة (تغيّرت إجابة سابقة): محفوظ في السجل، ولا يُحتسب ولا يُصدَّر أبدًا كإجابة صالحة.
form-pick-account = اختر شخصًا
record-edit = تعديل الإجابات
record-view-form = عرض النموذج

## Record status (the workflow moves tern-store offers)
status-title = الحالة
status-no-moves = لا يوجد ما تفعله في هذا السجل في حالته الحالية.
status-explain-submitted = عند اكتمال جميع الإجابات، أرسل السجل للمراجعة.
status-explain-reviewed = هل راجعت الإجابات والقرارات السريرية؟ وقّع السجل على أنه تمت مراجعته.
status-explain-locked = اقفل السجل: تصبح التغييرات اللاحقة تعديلات، لكل منها سبب.
status-explain-returned = أعد السجل إلى الفاحص مع بيان ما يجب تصحيحه.
status-comment = ما يجب تصحيحه
status-action-reviewed = توقيع كمراجَع
status-action-locked = قفل السجل
status-action-returned = إعادة للتصحيح
status-done-reviewed = تم التوقيع كمراجَع.
status-done-locked = تم القفل. التغييرات الآن تعديلات.
status-done-returned = أُعيد للتصحيح.

settings-title = الإعدادات
settings-language = اللغة
settings-server = عنوان الخادم
settings-lock-timeout = القفل بعد عدم النشاط (بالدقائق)
settings-saved = حُفظت الإعدادات.
settings-device = الجهاز { $device } في { $site }

error-not_enrolled = هذا الجهاز غير مسجّل بعد.
error-enrolment_failed = فشل التسجيل: { $message }
error-locked = مقفل. افتح القفل للمتابعة.
error-wrong_password = كلمة مرور خاطئة.
error-user_exists = اسم المستخدم هذا مستخدم.
error-not_found = غير موجود: { $message }
error-invalid_input = { $message }
error-forbidden = غير مسموح: { $message }
error-conflict = تغيّر في مكان آخر: { $message }
error-offline = لا يمكن الوصول إلى الخادم.
error-revoked = أُلغي هذا الجهاز.
error-storage = تعذّر الحفظ على هذا الجهاز: { $message }
error-internal = حدث خطأ: { $message }

dash-title = لوحة المشرف
dash-sign-in = تسجيل الدخول
dash-username = اسم المستخدم
dash-password = كلمة المرور
dash-sign-out = تسجيل الخروج
dash-review-title = سجلات للمراجعة
dash-review-empty = لا شيء للمراجعة.
dash-signed-in = دخلت باسم { $name }
dash-reload = إعادة التحميل
dash-quiet-title = { $count ->
    [one] جهاز واحد لم يُزامَن منذ أكثر من يوم
   *[other] { $count } أجهزة لم تُزامَن منذ أكثر من يوم
}
dash-last-sync = آخر مزامنة { $when }
dash-never-synced = لم يُزامَن قط
dash-activity-title = النشاط اليومي، آخر { $days } يومًا
dash-activity-empty = لم تبدأ أي سجلات في هذه الأيام.
dash-day = اليوم
dash-site = الموقع
dash-form = النموذج
dash-total = المجموع
dash-stale-title = { $count ->
    [one] مسودة واحدة متروكة أكثر من يوم
   *[other] { $count } مسودات متروكة أكثر من يوم
}
dash-hours = { $hours } ساعة
dash-undated = { $count ->
    [one] سجل واحد بلا تاريخ بدء معروف غير محسوب.
   *[other] { $count } سجلات بلا تاريخ بدء معروف غير محسوبة.
}
dash-open = فتح
dash-close = إغلاق
dash-entries = { $count ->
    [one] إدخال واحد
   *[other] { $count } إدخالات
}
dash-conflict = تعارض
dash-conflicts = { $count ->
    [one] سجل واحد فيه تعارض
   *[other] { $count } سجلات فيها تعارضات
}
dash-counts-title = { $count ->
    [one] سجل واحد في مواقعك
   *[other] { $count } سجلات في مواقعك
}

# Likert scales, restricted sections, amendments, adding a user while locked
form-withheld = { $count ->
    [one] قسم مقيّد واحد غير معروض لدورك.
   *[other] { $count } أقسام مقيّدة غير معروضة لدورك.
}
form-amend-title = هذا السجل مقفل
form-amend-explain = السجل مقفل. أدخل سبب التعديل. تبقى القيم الأصلية في السجل التاريخي.
form-amend-reason = سبب التعديل
form-amend-start = تعديل السجل
form-amending = تعديل: { $reason }
record-amendment = سبب التعديل: { $reason }
user-add-title = إضافة مستخدم على هذا الجهاز
user-add-explain = السجلات على هذا الجهاز مشفّرة. يؤكد عامل صحي يستخدم هذا الجهاز المستخدم الجديد بكلمة مروره، فتفتح كلمة مرور المستخدم الجديد السجلات نفسها. لا يبقى أحد مفتوح القفل. استخدم اسم المستخدم الخاص بحسابك على الخادم.
user-add-confirm-by = بتأكيد من
user-add-confirm-password = كلمة مروره
alerts-title = التنبيهات والمهام
alerts-empty = لا توجد تنبيهات مفتوحة.
alerts-due = مستحق { $when }
alerts-overdue = متأخر منذ { $when }
alerts-raised = أُثير { $when }
alert-kind-tb_suspect = اشتباه سل: متابعة
alert-kind-notifiable_alert = مرض واجب الإبلاغ: أبلغ السلطة
alert-kind-isolation = عزل

# Reports (issue 17), unreviewed draft
dash-overview = نظرة عامة
rep-title = التقارير
rep-name-daily = النشاط اليومي
rep-name-tb_suspects = حالات السل المشتبه بها
rep-name-alerts = التنبيهات
rep-name-vulnerability = إحالات الضعف
rep-name-vaccination = التغطية بالتطعيم
rep-name-test_uptake = الإقبال على الفحوص
rep-name-incomplete = السجلات غير المكتملة
rep-name-conflicts = السجلات المتعارضة
rep-from = من
rep-until = إلى
rep-all = الكل
rep-apply = عرض
rep-csv = تنزيل CSV
rep-empty = لا توجد سجلات تطابق هذا المرشح.
rep-yes = نعم
rep-no = لا
rep-note-alerts_from_rules = تُقرأ التنبيهات من القواعد التي انطلقت ومن قسم التنبيه في كل سجل.
rep-note-sensitive_categories_not_projected = الفئات الحساسة مقيدة ولا تُحسب هنا.
rep-note-restricted_tests_not_projected = الفحوص المقيدة (فيروس نقص المناعة) لا تُحسب هنا.
rep-col-outcome = النتيجة: { $outcome }
rep-col-day = اليوم
rep-col-site = الموقع
rep-col-form = النموذج
rep-col-total = المجموع
rep-col-draft = مسودة
rep-col-submitted = مُرسل
rep-col-reviewed = مُراجع
rep-col-returned = مُعاد
rep-col-locked = مقفل
rep-col-refused = مرفوض
rep-col-record = السجل
rep-col-subject = الشخص
rep-col-name = الاسم
rep-col-screening_date = تاريخ الفحص
rep-col-age_band = الفئة العمرية
rep-col-reasons = السبب
rep-col-cxr_result = الأشعة السينية للصدر
rep-col-culture_pending = الزرع معلق
rep-col-classification = التصنيف
rep-col-days_since = أيام منذ
rep-col-referral = الإحالة
rep-col-disease = المرض
rep-col-rules = القواعد
rep-col-raised_at = وقت الإطلاق
rep-col-deadline = الموعد النهائي
rep-col-hours_left = الساعات المتبقية
rep-col-status = الحالة
rep-col-notified_at = وقت الإبلاغ
rep-col-isolation = العزل
rep-col-contacts = المخالطون
rep-col-category = الفئة
rep-col-subjects = الأشخاص
rep-col-no_referral = بلا إحالة
rep-col-referral_open = إحالة مفتوحة
rep-col-referral_completed = إحالة مكتملة
rep-col-antigen = المستضد
rep-col-records = السجلات
rep-col-documented = موثّق
rep-col-documented_pct = موثّق %
rep-col-verbal_only = شفهي فقط
rep-col-none = لا شيء
rep-col-doses_given_here = جرعات أُعطيت هنا
rep-col-catchup_due = استدراك مستحق
rep-col-catchup_overdue = استدراك متأخر
rep-col-test = الفحص
rep-col-eligible = مؤهل
rep-col-offered = عُرض
rep-col-accepted = مقبول
rep-col-positive = إيجابي
rep-col-linked_to_care = مرتبط بالرعاية
rep-col-missing = إجابات ناقصة
rep-col-missing_fields = الحقول الناقصة
rep-col-errors = الأخطاء
rep-col-open_warnings = تحذيرات مفتوحة
rep-col-overridden_warnings = تحذيرات مُتجاوزة
rep-col-stale_draft = مسودة أقدم من 24 ساعة
rep-col-suspects = المشتبه بهم
rep-col-alerts = التنبيهات

## Team hub
nav-hub = محور الفريق
hub-title = محور الفريق
hub-intro = شغّل هذا الحاسوب كمحور لفريقك الميداني: تتزامن أجهزة الفريق معه عبر الشبكة المحلية دون إنترنت، وينقل عملهم إلى الخادم كلما تمكن من الوصول إليه.
hub-not-supervisor = المشرف وحده يشغّل محور الفريق.
hub-setup-code = رمز تسجيل المحور
hub-setup-help = في المرة الأولى فقط: ينشئ مسؤول الخادم هذا الرمز لحسابك. بعد ذلك يبدأ المحور بكلمة مرورك.
hub-start = تشغيل محور الفريق
hub-starting = جارٍ التشغيل…
hub-stop = إيقاف المحور
hub-connect = تسجيل جهاز من الفريق
hub-connect-help = على الجهاز، أدخل العنوان والرمز أو امسح رمز QR. يتحقق الجهاز من بصمة المحور قبل أن يرسل أي شيء.
hub-address = العنوان
hub-code = الرمز (لمرة واحدة)
hub-fingerprint = البصمة
hub-qr-alt = رمز QR يحمل عنوان المحور ورمز التسجيل
hub-new-code = رمز جديد
hub-upstream = المزامنة مع الخادم
hub-sync-now = زامن الآن
hub-upstream-idle = في انتظار المزامنة التالية.
hub-upstream-syncing = جارٍ المزامنة مع الخادم…
hub-upstream-failed = تعذّر الوصول إلى الخادم: { $message }. سيحاول المحور مجددًا تلقائيًا.
hub-upstream-revoked = ألغى الخادم هذا المحور. تم مسح بياناته.
hub-progress = أُرسل { $pushed } من { $total } تغييرًا، واستُلم { $received } سجلًا
hub-pending = { $count ->
    [0] لا شيء بانتظار الخادم
    [one] تغيير واحد بانتظار الخادم
   *[other] { $count } تغييرات بانتظار الخادم
}
hub-devices = أجهزة الفريق
hub-no-devices = لم يُسجَّل أي جهاز في هذا المحور بعد.
hub-device-user = سجّله
hub-device-id = الجهاز
hub-device-site = الموقع
hub-device-last = آخر مزامنة
hub-device-never = لم يُزامَن بعد
hub-device-revoked = ملغى

## Bundles
bundle-open = التبادل عبر USB أو ملف
bundle-title = التبادل عبر USB أو ملف
bundle-intro = عند انعدام الشبكة تمامًا، ينقل ملفٌ العمل: اكتب تغييرات هذا الجهاز على ذاكرة USB للمحور أو الخادم، واقرأ الملف الذي يكتبونه لك. الملفات مشفّرة لمستلمها وموقّعة؛ يُرفض الملف المعدَّل أو الغريب.
bundle-usb = ذاكرة USB
bundle-export = اكتب التغييرات هنا
bundle-import = اقرأ هذا الملف
bundle-no-files = لا توجد ملفات حزم هنا.
bundle-no-places = لم يُعثر على ذاكرة USB أو مجلد: أدخل ذاكرة USB.
bundle-peer = إلى
bundle-writing = جارٍ كتابة الحزمة… { $done } صفحات
bundle-reading = جارٍ قراءة الحزمة… { $done } من { $total } صفحات
bundle-written = كُتبت الحزمة: { $changes } تغييرات في { $records } سجلات، { $size }.
bundle-read = قُرئت الحزمة: { $changes } تغييرات جديدة في { $records } سجلات.
bundle-again = قُرئت هذه الحزمة من قبل؛ لم يتغير شيء.

# Quarantine review (issue 13)
quar-title = الحجر
quar-explain = تعديلات رفضها الخادم لأن دور كاتبها لا يسمح بها. أفرج عن تعديل لدمجه رغم ذلك (مثلاً إذا أملاه طبيب)، أو ارفضه لإبعاده نهائياً. يسجّل الخادم من قرّر ولماذا.
quar-empty = لا شيء ينتظر قراراً.
quar-kind = { $kind }
quar-authors = { $count ->
    [one] تعديل واحد كتبه { $names }
   *[other] { $count } تعديلات كتبها { $names }
}
quar-release = إفراج…
quar-reject = رفض…
quar-confirm-release = دمج { $count } من التعديلات المحجورة التي كتبها { $names } في السجل؟ ستصل إلى كل أجهزة الموقع.
quar-confirm-reject = إبعاد { $count } من التعديلات المحجورة التي كتبها { $names } نهائياً؟ لا يمكن دمجها بعد ذلك أبداً.
quar-reason = السبب
quar-reason-hint = سطر واحد لسجل الوصول: من طلب ذلك، وما الذي تحققت منه. لا تكتب أي معلومة صحية.
quar-cancel = إلغاء
quar-do-release = إفراج
quar-do-reject = رفض
quar-released = تم الإفراج: دُمجت تعديلات { $doc } وستصل إلى الأجهزة.
quar-rejected = تم الرفض: تبقى تعديلات { $doc } مُبعدة.

rep-bounded = أول { $shown } من { $total } صفاً؛ يعدّها الرسم البياني كلها، ويسردها ملف CSV كلها.

## Exports (issue 18)
exp-title = التصدير
exp-explain = بيانات للسلطات الصحية وللأطباء في بلد الوصول، حسب الغرض: فقط السجلات التي تغطي موافقتها أو أساسها القانوني هذا الغرض، بأسماء مستعارة لكل جهة مستلمة. البيانات المحددة للهوية والأقسام المقيدة تحتاج إلى طلب يوافق عليه مشرف المواقع. كل تصدير مسجل في سجل الوصول.
exp-explain-supervisor = يطلب مديرو البيانات هنا بيانات محددة للهوية أو أقساماً مقيدة، ويوافق على الطلب مشرف كل موقع من مواقعه. وافق فقط على ما يحتاجه الغرض.
exp-format = الصيغة
exp-format-csv = CSV (ملف zip، ملف لكل إصدار من النموذج)
exp-format-fhir = حزمة FHIR R4 (JSON)
exp-format-fhir-ndjson = موارد FHIR R4 (NDJSON)
exp-purpose = الغرض
exp-purpose-screening = الفحص
exp-purpose-share_destination = المشاركة مع بلد الوجهة
exp-purpose-research = البحث
exp-purpose-notifiable_disease = إنذار بمرض واجب الإبلاغ
exp-recipient = الجهة المستلمة
exp-no-recipient = لا أحد (الملف غير مشفر)
exp-sites = المواقع
exp-all-sites = إن لم تحدد شيئاً: كل مواقعك.
exp-protection = ما يتجاوز البيانات ذات الأسماء المستعارة
exp-identified = بيانات محددة للهوية
exp-restricted = أقسام مقيدة
exp-approval = الموافقة
exp-no-approval = لا شيء
exp-download = تصدير
exp-request = طلب موافقة
exp-progress = تم استلام { $kib } كيلوبايت من { $count } سجلاً
exp-done = تم حفظ { $name }: { $count } سجلاً يطابق التصفية؛ تُستبعد السجلات التي لا تغطي موافقتها أو أساسها القانوني الغرض (يعدّها ملخص التصدير).
exp-requested = الطلب { $id } ينتظر موافقة مشرف.
exp-approved = تمت الموافقة على الطلب { $id }.
exp-approvals = الموافقات
exp-approvals-empty = لا توجد طلبات.
exp-requested-by = طلبه { $name }
exp-approved-by = وافق عليه { $name }
exp-approve = موافقة
exp-waiting = ينتظر مشرفاً
