# Ukrainian UI text (unreviewed; review before field use).
app-name = Tern
nav-home = Головна
nav-subjects = Люди
nav-settings = Налаштування
nav-lock = Заблокувати
loading = Завантаження…
working = Виконується…
back = Назад
cancel = Скасувати
save = Зберегти

firstrun-title = Налаштування пристрою
firstrun-intro = Введіть адресу сервера та код реєстрації від адміністратора.
firstrun-server = Адреса сервера
firstrun-code = Код реєстрації
firstrun-enrol = Зареєструвати пристрій
firstrun-enrolled = Пристрій зареєстровано для { $site }.
firstrun-user-title = Створіть свого користувача
user-username = Ім'я користувача
user-display-name = Повне ім'я
user-password = Пароль
user-password-hint = Щонайменше 8 символів. Він відкриває дані на цьому пристрої й не відновлюється.
user-create = Створити користувача

unlock-title = Хто працює?
unlock-password = Пароль
unlock-submit = Розблокувати
unlock-add-user = Додати користувача на цьому пристрої
unlock-offline-note = Працює без мережі.

home-title = Сьогодні
home-today = Записи за сьогодні
home-drafts = Чернетки
home-correction = Потребують виправлення
home-empty = Тут нічого немає.
home-find = Знайти або зареєструвати особу
record-open = Відкрити
record-history = Історія
record-conflicts = { $count ->
    [one] { $count } конфлікт
    [few] { $count } конфлікти
   *[other] { $count } конфліктів
}
record-unsynced = Ще не надіслано
record-returned = Повернуто: { $comment }
status-draft = Чернетка
status-submitted = Надіслано
status-reviewed = Перевірено
status-locked = Заблоковано
status-returned = Повернуто на виправлення

sync-title = Синхронізація
sync-now = Синхронізувати
sync-idle = Актуально
sync-connecting = З'єднання…
sync-pushing = Надсилання змін…
sync-pulling = Отримання змін…
sync-offline = Офлайн: робота триває, синхронізація чекає на мережу.
sync-error = Синхронізація не вдалася: { $message }
sync-revoked = Пристрій відкликано. Його дані стерто.
sync-last = Остання синхронізація { $when }
sync-never = Ще не синхронізовано
sync-unproven = Ще не підтверджено сервером: { $names }. Їхня робота залишається на цьому пристрої, доки кожен не увійде один раз, коли пристрій у мережі.
sync-pending = { $count ->
    [0] Нічого надсилати
    [one] { $count } запис до надсилання
    [few] { $count } записи до надсилання
   *[other] { $count } записів до надсилання
}

subject-search-title = Знайти особу
subject-search-label = Ім'я, ID, номер справи або дата народження
subject-search-submit = Шукати
subject-no-results = Нікого не знайдено.
subject-register-title = Зареєструвати нову особу
subject-family-name = Прізвище
subject-given-name = Ім'я
subject-sex = Стать
sex-female = Жіноча
sex-male = Чоловіча
sex-other = Інша
sex-unknown = Невідомо
subject-dob = Дата народження
subject-dob-precision = Точність дати народження
precision-exact = Точна
precision-year_month = Місяць і рік
precision-year = Лише рік
precision-estimated = Приблизна
subject-nationality = Громадянство
subject-case-ref = Номер справи
subject-register = Зареєструвати
subject-duplicate-title = Можливо, цю особу вже зареєстровано
subject-duplicate-intro = Перевірте цих людей, перш ніж реєструвати нову особу.
subject-duplicate-use = Це та сама особа
subject-duplicate-register-anyway = Інша особа: зареєструвати
subject-start = Почати форму
subject-records = Записи
subject-born = Нар. { $date }

form-section-progress = Відповідей: { $answered } з { $total }
form-overall-progress = Розділ { $current } з { $total }
form-sections = Розділи
form-prev = Попередній розділ
form-next = Наступний розділ
form-required = Обов'язково
form-missing = Немає відповіді
form-saving = Збереження…
form-saved = Збережено
form-save-failed = Не збережено: { $message }
form-yes = Так
form-no = Ні
form-clear = Очистити відповідь
form-add = Додати
form-remove = Вилучити
form-item = № { $n }
form-max-reached = Не більше { $max }.
form-calculated = Обчислено
form-role-read-only = Змінити це може лише інша роль
form-role-entered-by = Вносить: { $roles }
role-screener = скринінговий працівник
role-clinician = лікар
role-supervisor = супервізор
role-data_manager = менеджер даних
role-admin = адміністратор
form-no-value = —
form-confirm-warning = Значення правильне
form-warning-confirmed = Підтверджено
form-country-search = Введіть, щоб відфільтрувати країни
form-choose = Виберіть…
form-restricted = Розділ з обмеженим доступом
form-licensed = Текст цього інструменту встановлюється для кожного розгортання.
form-language = Мова форми
form-submit = Надіслати
form-submit-title = Перед надсиланням
form-submit-missing = Бракує відповідей: { $count }
form-submit-errors = Неприйнятних відповідей: { $count }
form-submit-warnings = Попереджень до підтвердження: { $count }
form-submit-complete = Усі відповіді заповнено.
form-submit-confirm = Надіслати запис
form-submitted = Надіслано. Ви ще можете виправити запис; історія зберігається.
form-go-to = Перейти
form-action = { $message }
form-view-record = Історія та конфлікти

record-title = Запис
record-fields-title = Відповіді
record-conflicts-title = Суперечливі значення
record-conflict-by = { $user } на { $device }, { $when }
record-keep = Залишити це значення
record-history-title = Історія: { $field }
record-history-empty = Змін ще немає.
record-history-entry = { $user } на { $device }, { $when }
record-no-conflicts = Конфліктів немає.
record-hidden-kept = Приховано, збережено
record-hidden-kept-hint = Більше не стосується (змінилася попередня відповідь): зберігається в записі, але ніколи не враховується і не експортується як дійсна відповідь.
form-pick-account = Оберіть особу
record-edit = Редагувати відповіді
record-view-form = Переглянути форму

## Record status (the workflow moves tern-store offers)
status-title = Статус
status-no-moves = Для вас у цьому записі за цього статусу нічого робити.
status-explain-submitted = Коли всі відповіді заповнено, надішліть запис на перевірку.
status-explain-reviewed = Перевірили відповіді та клінічні рішення? Підпишіть запис як перевірений.
status-explain-locked = Заблокуйте запис: подальші зміни стануть поправками, кожна з причиною.
status-explain-returned = Поверніть запис скринеру, вказавши, що виправити.
status-comment = Що виправити
status-action-reviewed = Підписати як перевірений
status-action-locked = Заблокувати запис
status-action-returned = Повернути на виправлення
status-done-reviewed = Підписано як перевірений.
status-done-locked = Заблоковано. Зміни тепер є поправками.
status-done-returned = Повернуто на виправлення.

settings-title = Налаштування
settings-language = Мова
settings-server = Адреса сервера
settings-lock-timeout = Блокування після бездіяльності (хвилин)
settings-saved = Налаштування збережено.
settings-device = Пристрій { $device } у { $site }

error-not_enrolled = Пристрій ще не зареєстровано.
error-enrolment_failed = Реєстрація не вдалася: { $message }
error-locked = Заблоковано. Розблокуйте, щоб продовжити.
error-wrong_password = Неправильний пароль.
error-user_exists = Це ім'я користувача зайняте.
error-not_found = Не знайдено: { $message }
error-invalid_input = { $message }
error-forbidden = Не дозволено: { $message }
error-conflict = Змінено деінде: { $message }
error-offline = Сервер недоступний.
error-revoked = Пристрій відкликано.
error-storage = Не вдалося зберегти на пристрої: { $message }
error-internal = Щось пішло не так: { $message }

dash-title = Панель керівника
dash-sign-in = Увійти
dash-username = Ім'я користувача
dash-password = Пароль
dash-sign-out = Вийти
dash-review-title = Записи на перевірку
dash-review-empty = Нічого перевіряти.
dash-signed-in = Ви увійшли як { $name }
dash-reload = Оновити
dash-quiet-title = { $count ->
    [one] 1 пристрій не синхронізувався понад добу
    [few] { $count } пристрої не синхронізувалися понад добу
   *[other] { $count } пристроїв не синхронізувалися понад добу
}
dash-last-sync = Остання синхронізація { $when }
dash-never-synced = Ніколи не синхронізувався
dash-activity-title = Щоденна активність, останні { $days } днів
dash-activity-empty = У ці дні записів не розпочато.
dash-day = День
dash-site = Пункт
dash-form = Форма
dash-total = Усього
dash-stale-title = { $count ->
    [one] 1 чернетка лежить понад добу
    [few] { $count } чернетки лежать понад добу
   *[other] { $count } чернеток лежать понад добу
}
dash-hours = { $hours } год
dash-undated = { $count ->
    [one] 1 запис без відомої дати початку не враховано.
   *[other] { $count } записів без відомої дати початку не враховано.
}
dash-open = Відкрити
dash-close = Закрити
dash-entries = { $count ->
    [one] 1 запис
    [few] { $count } записи
   *[other] { $count } записів
}
dash-conflict = Конфлікт
dash-conflicts = { $count ->
    [one] 1 з конфліктом
    [few] { $count } з конфліктами
   *[other] { $count } з конфліктами
}
dash-counts-title = { $count ->
    [one] 1 запис на ваших пунктах
    [few] { $count } записи на ваших пунктах
   *[other] { $count } записів на ваших пунктах
}

# Likert scales, restricted sections, amendments, adding a user while locked
form-withheld = { $count ->
    [one] { $count } розділ з обмеженим доступом не показано для вашої ролі.
    [few] { $count } розділи з обмеженим доступом не показано для вашої ролі.
   *[other] { $count } розділів з обмеженим доступом не показано для вашої ролі.
}
form-amend-title = Цей запис заблоковано
form-amend-explain = Запис заблоковано. Вкажіть причину виправлення. Початкові значення залишаються в історії.
form-amend-reason = Причина виправлення
form-amend-start = Виправити запис
form-amending = Виправлення: { $reason }
record-amendment = Причина виправлення: { $reason }
user-add-title = Додати користувача на цьому пристрої
user-add-explain = Записи на цьому пристрої зашифровані. Медпрацівник, який уже користується цим пристроєм, підтверджує нового користувача своїм паролем, і пароль нового користувача відкриває ті самі записи. Ніхто не залишається розблокованим. Використовуйте ім’я користувача свого облікового запису на сервері.
user-add-confirm-by = Підтверджує
user-add-confirm-password = Їхній пароль
alerts-title = Сповіщення та завдання
alerts-empty = Відкритих сповіщень немає.
alerts-due = Термін { $when }
alerts-overdue = Прострочено з { $when }
alerts-raised = Створено { $when }
alert-kind-tb_suspect = Підозра на ТБ: подальше спостереження
alert-kind-notifiable_alert = Хвороба, що підлягає повідомленню: сповістіть орган
alert-kind-isolation = Ізоляція

# Reports (issue 17), unreviewed draft
dash-overview = Огляд
rep-title = Звіти
rep-name-daily = Щоденна активність
rep-name-tb_suspects = Підозри на ТБ
rep-name-alerts = Сповіщення
rep-name-vulnerability = Направлення щодо вразливості
rep-name-vaccination = Охоплення вакцинацією
rep-name-test_uptake = Охоплення тестуванням
rep-name-incomplete = Неповні записи
rep-name-conflicts = Записи з конфліктами
rep-from = Від
rep-until = До
rep-all = Усі
rep-apply = Показати
rep-csv = Завантажити CSV
rep-empty = Жоден запис не відповідає фільтру.
rep-yes = так
rep-no = ні
rep-note-alerts_from_rules = Сповіщення беруться з правил, що спрацювали, і розділу сповіщень кожного запису.
rep-note-sensitive_categories_not_projected = Чутливі категорії обмежені й тут не враховуються.
rep-note-restricted_tests_not_projected = Обмежені тести (ВІЛ) тут не враховуються.
rep-col-outcome = Результат: { $outcome }
rep-col-day = День
rep-col-site = Місце
rep-col-form = Форма
rep-col-total = Усього
rep-col-draft = Чернетка
rep-col-submitted = Подано
rep-col-reviewed = Перевірено
rep-col-returned = Повернуто
rep-col-locked = Заблоковано
rep-col-refused = Відмова
rep-col-record = Запис
rep-col-subject = Особа
rep-col-name = Ім’я
rep-col-screening_date = Дата скринінгу
rep-col-age_band = Вікова група
rep-col-reasons = Причина
rep-col-cxr_result = Рентген грудної клітки
rep-col-culture_pending = Посів очікується
rep-col-classification = Класифікація
rep-col-days_since = Днів минуло
rep-col-referral = Направлення
rep-col-disease = Хвороба
rep-col-rules = Правила
rep-col-raised_at = Піднято
rep-col-deadline = Термін
rep-col-hours_left = Годин залишилось
rep-col-status = Статус
rep-col-notified_at = Повідомлено
rep-col-isolation = Ізоляція
rep-col-contacts = Контакти
rep-col-category = Категорія
rep-col-subjects = Особи
rep-col-no_referral = Без направлення
rep-col-referral_open = Направлення відкрите
rep-col-referral_completed = Направлення завершене
rep-col-antigen = Антиген
rep-col-records = Записи
rep-col-documented = Задокументовано
rep-col-documented_pct = Задокументовано %
rep-col-verbal_only = Лише усно
rep-col-none = Немає
rep-col-doses_given_here = Дози введені тут
rep-col-catchup_due = Надолуження заплановано
rep-col-catchup_overdue = Надолуження прострочено
rep-col-test = Тест
rep-col-eligible = Підлягає
rep-col-offered = Запропоновано
rep-col-accepted = Прийнято
rep-col-positive = Позитивний
rep-col-linked_to_care = Під опікою
rep-col-missing = Бракує відповідей
rep-col-missing_fields = Поля, яких бракує
rep-col-errors = Помилки
rep-col-open_warnings = Відкриті попередження
rep-col-overridden_warnings = Підтверджені попередження
rep-col-stale_draft = Чернетка понад 24 год
rep-col-suspects = Підозри
rep-col-alerts = Сповіщення

## Team hub
nav-hub = Хаб команди
hub-title = Хаб команди
hub-intro = Запустіть цей комп'ютер як хаб вашої польової команди: пристрої команди синхронізуються з ним через локальну мережу без інтернету, а він передає їхню роботу на сервер, щойно зможе з ним зв'язатися.
hub-not-supervisor = Лише супервізор може запускати хаб команди.
hub-setup-code = Код реєстрації хаба
hub-setup-help = Лише першого разу: адміністратор сервера створює цей код для вашого облікового запису. Далі хаб запускається з вашим паролем.
hub-start = Запустити хаб команди
hub-starting = Запуск…
hub-stop = Зупинити хаб
hub-connect = Зареєструвати пристрій команди
hub-connect-help = На пристрої введіть адресу й код або відскануйте QR-код. Пристрій перевіряє відбиток хаба, перш ніж щось надіслати.
hub-address = Адреса
hub-code = Код (одноразовий)
hub-fingerprint = Відбиток
hub-qr-alt = QR-код з адресою хаба та кодом реєстрації
hub-new-code = Новий код
hub-upstream = Синхронізація з сервером
hub-sync-now = Синхронізувати
hub-upstream-idle = Очікування наступної синхронізації.
hub-upstream-syncing = Синхронізація з сервером…
hub-upstream-failed = Не вдалося зв'язатися з сервером: { $message }. Хаб спробує знову сам.
hub-upstream-revoked = Сервер відкликав цей хаб. Його дані стерто.
hub-progress = Надіслано { $pushed } з { $total } змін, отримано { $received } записів
hub-pending = { $count ->
    [0] Нічого не чекає на сервер
    [one] 1 зміна чекає на сервер
    [few] { $count } зміни чекають на сервер
   *[other] { $count } змін чекають на сервер
}
hub-devices = Пристрої команди
hub-no-devices = Жоден пристрій ще не зареєстровано в цьому хабі.
hub-device-user = Зареєстрував
hub-device-id = Пристрій
hub-device-site = Місце
hub-device-last = Остання синхронізація
hub-device-never = Ще не синхронізовано
hub-device-revoked = Відкликано

## Bundles
bundle-open = Обмін через USB або файл
bundle-title = Обмін через USB або файл
bundle-intro = Коли мережі немає зовсім, роботу переносить файл: запишіть зміни цього пристрою на USB-накопичувач для хаба чи сервера й прочитайте файл, який вони повернуть. Файли зашифровано для отримувача й підписано; змінений або чужий файл відхиляється.
bundle-usb = USB-накопичувач
bundle-export = Записати зміни сюди
bundle-import = Прочитати цей файл
bundle-no-files = Тут немає файлів пакетів.
bundle-no-places = USB-накопичувач чи теку не знайдено: вставте USB-накопичувач.
bundle-peer = Для
bundle-writing = Запис пакета… { $done } сторінок
bundle-reading = Читання пакета… { $done } з { $total } сторінок
bundle-written = Пакет записано: { $changes } змін у { $records } записах, { $size }.
bundle-read = Пакет прочитано: { $changes } нових змін у { $records } записах.
bundle-again = Цей пакет уже читали; нічого не змінилося.

# Quarantine review (issue 13)
quar-title = Карантин
quar-explain = Зміни, які сервер відхилив, бо роль їхнього автора їх не дозволяє. Звільніть зміну, щоб усе ж об’єднати її (наприклад, її продиктував лікар), або відхиліть, щоб назавжди залишити поза записом. Сервер записує, хто і чому ухвалив рішення.
quar-empty = Немає змін, що чекають рішення.
quar-kind = { $kind }
quar-authors = { $count ->
    [one] { $count } зміна від { $names }
    [few] { $count } зміни від { $names }
   *[other] { $count } змін від { $names }
}
quar-release = Звільнити…
quar-reject = Відхилити…
quar-confirm-release = Об’єднати з записом змін у карантині від { $names }: { $count }? Їх отримають усі пристрої пункту.
quar-confirm-reject = Назавжди відхилити змін у карантині від { $names }: { $count }? Їх уже ніколи не можна буде об’єднати.
quar-reason = Причина
quar-reason-hint = Один рядок для журналу доступу: хто попросив, що ви перевірили. Ніколи не пишіть даних про здоров’я.
quar-cancel = Скасувати
quar-do-release = Звільнити
quar-do-reject = Відхилити
quar-released = Звільнено: зміни { $doc } об’єднано, вони надійдуть на пристрої.
quar-rejected = Відхилено: зміни { $doc } залишаються поза записом.

rep-bounded = Перші { $shown } із { $total } рядків; діаграма враховує всі, а завантаження CSV містить усі.

## Exports (issue 18)
exp-title = Експорт
exp-explain = Дані для органів охорони здоров'я та лікарів у країні прибуття, за метою: лише записи, згода або правова підстава яких охоплює мету, псевдонімізовані для кожного отримувача. Ідентифікаційні дані та обмежені розділи потребують запиту, який схвалює супервізор сайтів. Кожен експорт записується в журнал доступу.
exp-explain-supervisor = Менеджери даних запитують тут ідентифікаційні дані або обмежені розділи; запит схвалює супервізор кожного з його сайтів. Схвалюйте лише те, чого потребує мета.
exp-format = Формат
exp-format-csv = CSV (zip, один файл на версію форми)
exp-format-fhir = Пакет FHIR R4 (JSON)
exp-format-fhir-ndjson = Ресурси FHIR R4 (NDJSON)
exp-purpose = Мета
exp-purpose-screening = Скринінг
exp-purpose-share_destination = Передача країні призначення
exp-purpose-research = Дослідження
exp-purpose-notifiable_disease = Сповіщення про хворобу, що підлягає реєстрації
exp-recipient = Отримувач
exp-no-recipient = Немає (файл не зашифровано)
exp-sites = Сайти
exp-all-sites = Нічого не позначено: усі ваші сайти.
exp-protection = Понад псевдонімізовані дані
exp-identified = Ідентифікаційні дані
exp-restricted = Обмежені розділи
exp-approval = Схвалення
exp-no-approval = Немає
exp-download = Експортувати
exp-request = Запитати схвалення
exp-progress = Отримано { $kib } КіБ із { $count } записів
exp-done = Збережено { $name }: фільтру відповідають { $count } записів; записи, згода або правова підстава яких не охоплює мету, не включено (їх підраховує зведення експорту).
exp-requested = Запит { $id } чекає на схвалення супервізора.
exp-approved = Запит { $id } схвалено.
exp-approvals = Схвалення
exp-approvals-empty = Запитів немає.
exp-requested-by = запитав { $name }
exp-approved-by = схвалив { $name }
exp-approve = Схвалити
exp-waiting = Чекає на супервізора
