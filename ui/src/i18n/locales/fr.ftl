# French UI text (unreviewed; review before field use).
app-name = Tern
nav-home = Accueil
nav-subjects = Personnes
nav-settings = Réglages
nav-lock = Verrouiller
loading = Chargement…
working = En cours…
back = Retour
cancel = Annuler
save = Enregistrer

firstrun-title = Configurer cet appareil
firstrun-intro = Saisissez l'adresse du serveur et le code d'inscription fournis par votre administrateur.
firstrun-server = Adresse du serveur
firstrun-code = Code d'inscription
firstrun-enrol = Inscrire cet appareil
firstrun-enrolled = Cet appareil est inscrit pour { $site }.
firstrun-user-title = Créez votre utilisateur
user-username = Nom d'utilisateur
user-display-name = Nom complet
user-password = Mot de passe
user-password-hint = Au moins 8 caractères. Il déverrouille les données de cet appareil et ne peut pas être récupéré.
user-create = Créer l'utilisateur

unlock-title = Qui travaille ?
unlock-password = Mot de passe
unlock-submit = Déverrouiller
unlock-add-user = Ajouter un utilisateur sur cet appareil
unlock-offline-note = Fonctionne sans réseau.

home-title = Aujourd'hui
home-today = Dossiers du jour
home-drafts = Brouillons
home-correction = À corriger
home-empty = Rien ici.
home-find = Trouver ou inscrire une personne
record-open = Ouvrir
record-history = Historique
record-conflicts = { $count ->
    [one] 1 conflit
   *[other] { $count } conflits
}
record-unsynced = Pas encore envoyé
record-returned = Renvoyé : { $comment }
status-draft = Brouillon
status-submitted = Soumis
status-reviewed = Revu
status-locked = Verrouillé
status-returned = Renvoyé pour correction

sync-title = Synchronisation
sync-now = Synchroniser
sync-idle = À jour
sync-connecting = Connexion…
sync-pushing = Envoi des modifications…
sync-pulling = Réception des modifications…
sync-offline = Hors ligne : le travail continue, la synchronisation attend le réseau.
sync-error = Échec de la synchronisation : { $message }
sync-revoked = Cet appareil a été révoqué. Ses données ont été effacées.
sync-last = Dernière synchronisation { $when }
sync-never = Jamais synchronisé
sync-unproven = Pas encore confirmé par le serveur : { $names }. Leur travail reste sur cet appareil jusqu’à ce que chacun se connecte une fois pendant que l’appareil est en ligne.
sync-pending = { $count ->
    [0] Rien à envoyer
    [one] 1 dossier à envoyer
   *[other] { $count } dossiers à envoyer
}

subject-search-title = Trouver une personne
subject-search-label = Nom, identifiant, numéro de dossier ou date de naissance
subject-search-submit = Rechercher
subject-no-results = Personne trouvée.
subject-register-title = Inscrire une nouvelle personne
subject-family-name = Nom de famille
subject-given-name = Prénom
subject-sex = Sexe
sex-female = Féminin
sex-male = Masculin
sex-other = Autre
sex-unknown = Inconnu
subject-dob = Date de naissance
subject-dob-precision = Précision de la date de naissance
precision-exact = Exacte
precision-year_month = Mois et année
precision-year = Année seulement
precision-estimated = Estimée
subject-nationality = Nationalité
subject-case-ref = Numéro de dossier
subject-register = Inscrire
subject-duplicate-title = Cette personne est peut-être déjà inscrite
subject-duplicate-intro = Vérifiez ces personnes avant d'en inscrire une nouvelle.
subject-duplicate-use = C'est cette personne
subject-duplicate-register-anyway = Pas la même personne : inscrire
subject-start = Commencer un formulaire
subject-records = Dossiers
subject-born = Né(e) le { $date }

form-section-progress = { $answered } sur { $total } renseignés
form-overall-progress = Section { $current } sur { $total }
form-sections = Sections
form-prev = Section précédente
form-next = Section suivante
form-required = Obligatoire
form-missing = Réponse manquante
form-saving = Enregistrement…
form-saved = Enregistré
form-save-failed = Non enregistré : { $message }
form-yes = Oui
form-no = Non
form-clear = Effacer la réponse
form-add = Ajouter
form-remove = Retirer
form-item = N° { $n }
form-max-reached = { $max } au plus.
form-calculated = Calculé
form-role-read-only = Seul un autre rôle peut modifier ceci
form-role-entered-by = Saisi par : { $roles }
role-screener = agent de dépistage
role-clinician = clinicien
role-supervisor = superviseur
role-data_manager = gestionnaire de données
role-admin = administrateur
form-no-value = —
form-confirm-warning = La valeur est juste
form-warning-confirmed = Confirmé
form-country-search = Tapez pour filtrer les pays
form-choose = Choisir…
form-restricted = Section restreinte
form-licensed = Le texte de cet instrument est installé par déploiement.
form-language = Langue du formulaire
form-submit = Soumettre
form-submit-title = Avant de soumettre
form-submit-missing = { $count ->
    [one] 1 réponse manque
   *[other] { $count } réponses manquent
}
form-submit-errors = { $count ->
    [one] 1 réponse n'est pas acceptée
   *[other] { $count } réponses ne sont pas acceptées
}
form-submit-warnings = { $count ->
    [one] 1 avertissement à confirmer
   *[other] { $count } avertissements à confirmer
}
form-submit-complete = Toutes les réponses sont complètes.
form-submit-confirm = Soumettre le dossier
form-submitted = Soumis. Vous pouvez encore le corriger ; l'historique est conservé.
form-go-to = Aller à
form-action = { $message }
form-view-record = Historique et conflits

record-title = Dossier
record-fields-title = Réponses
record-conflicts-title = Valeurs en conflit
record-conflict-by = { $user } sur { $device }, { $when }
record-keep = Garder cette valeur
record-history-title = Historique de { $field }
record-history-empty = Aucune modification.
record-history-entry = { $user } sur { $device }, { $when }
record-no-conflicts = Aucun conflit.
record-hidden-kept = Masquée, conservée
record-hidden-kept-hint = Plus pertinente (une réponse antérieure a changé) : conservée dans le dossier, jamais comptée ni exportée comme réponse valide.
form-pick-account = Choisir une personne
record-edit = Modifier les réponses
record-view-form = Voir le formulaire

## Record status (the workflow moves tern-store offers)
status-title = Statut
status-no-moves = Rien à faire pour vous sur ce dossier à ce statut.
status-explain-submitted = Quand toutes les réponses sont complètes, soumettez le dossier pour relecture.
status-explain-reviewed = Réponses et décisions cliniques vérifiées ? Signez le dossier comme relu.
status-explain-locked = Verrouillez le dossier : les modifications suivantes deviennent des amendements, chacun avec un motif.
status-explain-returned = Renvoyez le dossier à l’agent de dépistage en indiquant quoi corriger.
status-comment = À corriger
status-action-reviewed = Signer comme relu
status-action-locked = Verrouiller le dossier
status-action-returned = Renvoyer pour correction
status-done-reviewed = Signé comme relu.
status-done-locked = Verrouillé. Les modifications sont désormais des amendements.
status-done-returned = Renvoyé pour correction.

settings-title = Réglages
settings-language = Langue
settings-server = Adresse du serveur
settings-lock-timeout = Verrouiller après inactivité (minutes)
settings-saved = Réglages enregistrés.
settings-device = Appareil { $device } à { $site }

error-not_enrolled = Cet appareil n'est pas encore inscrit.
error-enrolment_failed = L'inscription a échoué : { $message }
error-locked = Verrouillé. Déverrouillez pour continuer.
error-wrong_password = Mot de passe incorrect.
error-user_exists = Ce nom d'utilisateur est pris.
error-not_found = Introuvable : { $message }
error-invalid_input = { $message }
error-forbidden = Non autorisé : { $message }
error-conflict = Modifié ailleurs : { $message }
error-offline = Le serveur est injoignable.
error-revoked = Cet appareil a été révoqué.
error-storage = Impossible d'enregistrer sur cet appareil : { $message }
error-internal = Une erreur s'est produite : { $message }

dash-title = Tableau de bord superviseur
dash-sign-in = Se connecter
dash-username = Nom d'utilisateur
dash-password = Mot de passe
dash-sign-out = Se déconnecter
dash-review-title = Dossiers à revoir
dash-review-empty = Rien à revoir.
dash-signed-in = Connecté en tant que { $name }
dash-reload = Actualiser
dash-quiet-title = { $count ->
    [one] 1 appareil non synchronisé depuis plus d’un jour
   *[other] { $count } appareils non synchronisés depuis plus d’un jour
}
dash-last-sync = Dernière synchronisation { $when }
dash-never-synced = Jamais synchronisé
dash-activity-title = Activité quotidienne, { $days } derniers jours
dash-activity-empty = Aucun dossier commencé ces jours-ci.
dash-day = Jour
dash-site = Site
dash-form = Formulaire
dash-total = Total
dash-stale-title = { $count ->
    [one] 1 brouillon laissé plus d’un jour
   *[other] { $count } brouillons laissés plus d’un jour
}
dash-hours = { $hours } h
dash-undated = { $count ->
    [one] 1 dossier sans date de début connue n’est pas compté.
   *[other] { $count } dossiers sans date de début connue ne sont pas comptés.
}
dash-open = Ouvrir
dash-close = Fermer
dash-entries = { $count ->
    [one] 1 entrée
   *[other] { $count } entrées
}
dash-conflict = Conflit
dash-conflicts = { $count ->
    [one] 1 avec un conflit
   *[other] { $count } avec des conflits
}
dash-counts-title = { $count ->
    [one] 1 dossier sur vos sites
   *[other] { $count } dossiers sur vos sites
}

# Likert scales, restricted sections, amendments, adding a user while locked
form-withheld = { $count ->
    [one] Une section restreinte n’est pas affichée pour votre rôle.
   *[other] { $count } sections restreintes ne sont pas affichées pour votre rôle.
}
form-amend-title = Ce dossier est verrouillé
form-amend-explain = Le dossier est verrouillé. Saisissez le motif de la modification. Les valeurs d’origine restent dans l’historique.
form-amend-reason = Motif de la modification
form-amend-start = Modifier le dossier
form-amending = Modification : { $reason }
record-amendment = Motif de la modification : { $reason }
user-add-title = Ajouter un utilisateur sur cet appareil
user-add-explain = Les dossiers de cet appareil sont chiffrés. Un agent de santé qui utilise déjà cet appareil confirme le nouvel utilisateur avec son mot de passe ; le mot de passe du nouvel utilisateur ouvre alors les mêmes dossiers. Personne ne reste déverrouillé. Utilisez le nom d’utilisateur de votre compte serveur.
user-add-confirm-by = Confirmé par
user-add-confirm-password = Son mot de passe
alerts-title = Alertes et tâches
alerts-empty = Aucune alerte ouverte.
alerts-due = À faire avant { $when }
alerts-overdue = En retard depuis { $when }
alerts-raised = Levée { $when }
alert-kind-tb_suspect = Suspicion de TB : suivi
alert-kind-notifiable_alert = Maladie à déclaration obligatoire : alerter l’autorité
alert-kind-isolation = Isolement

# Reports (issue 17), unreviewed draft
dash-overview = Vue d’ensemble
rep-title = Rapports
rep-name-daily = Activité quotidienne
rep-name-tb_suspects = Suspicions de TB
rep-name-alerts = Alertes
rep-name-vulnerability = Orientations vulnérabilité
rep-name-vaccination = Couverture vaccinale
rep-name-test_uptake = Recours aux tests
rep-name-incomplete = Dossiers incomplets
rep-name-conflicts = Dossiers en conflit
rep-from = Du
rep-until = Au
rep-all = Tous
rep-apply = Afficher
rep-csv = Télécharger CSV
rep-empty = Aucun dossier ne correspond à ce filtre.
rep-yes = oui
rep-no = non
rep-note-alerts_from_rules = Les alertes sont lues dans les règles déclenchées et la section alerte de chaque dossier.
rep-note-sensitive_categories_not_projected = Les catégories sensibles sont restreintes et ne sont pas comptées ici.
rep-note-restricted_tests_not_projected = Les tests restreints (VIH) ne sont pas comptés ici.
rep-col-outcome = Issue : { $outcome }
rep-col-day = Jour
rep-col-site = Site
rep-col-form = Formulaire
rep-col-total = Total
rep-col-draft = Brouillon
rep-col-submitted = Soumis
rep-col-reviewed = Révisé
rep-col-returned = Renvoyé
rep-col-locked = Verrouillé
rep-col-refused = Refusé
rep-col-record = Dossier
rep-col-subject = Personne
rep-col-name = Nom
rep-col-screening_date = Date du dépistage
rep-col-age_band = Tranche d’âge
rep-col-reasons = Motif
rep-col-cxr_result = Radio thoracique
rep-col-culture_pending = Culture en attente
rep-col-classification = Classification
rep-col-days_since = Jours depuis
rep-col-referral = Orientation
rep-col-disease = Maladie
rep-col-rules = Règles
rep-col-raised_at = Levée le
rep-col-deadline = Échéance
rep-col-hours_left = Heures restantes
rep-col-status = Statut
rep-col-notified_at = Notifiée le
rep-col-isolation = Isolement
rep-col-contacts = Contacts
rep-col-category = Catégorie
rep-col-subjects = Personnes
rep-col-no_referral = Sans orientation
rep-col-referral_open = Orientation ouverte
rep-col-referral_completed = Orientation terminée
rep-col-antigen = Antigène
rep-col-records = Dossiers
rep-col-documented = Documenté
rep-col-documented_pct = Documenté %
rep-col-verbal_only = Verbal seulement
rep-col-none = Aucun
rep-col-doses_given_here = Doses données ici
rep-col-catchup_due = Rattrapage dû
rep-col-catchup_overdue = Rattrapage en retard
rep-col-test = Test
rep-col-eligible = Éligible
rep-col-offered = Proposé
rep-col-accepted = Accepté
rep-col-positive = Positif
rep-col-linked_to_care = Lié aux soins
rep-col-missing = Réponses manquantes
rep-col-missing_fields = Champs manquants
rep-col-errors = Erreurs
rep-col-open_warnings = Avertissements ouverts
rep-col-overridden_warnings = Avertissements confirmés
rep-col-stale_draft = Brouillon de plus de 24 h
rep-col-suspects = Suspicions
rep-col-alerts = Alertes

## Team hub
nav-hub = Relais d'équipe
hub-title = Relais d'équipe
hub-intro = Faites de cet ordinateur le relais de votre équipe de terrain : les appareils de l'équipe se synchronisent avec lui sur le réseau local, sans internet, et il transmet leur travail au serveur dès qu'il peut le joindre.
hub-not-supervisor = Seul un superviseur peut lancer un relais d'équipe.
hub-setup-code = Code d'enrôlement du relais
hub-setup-help = La première fois seulement : un administrateur du serveur crée ce code pour votre compte. Ensuite, le relais démarre avec votre mot de passe.
hub-start = Lancer le relais d'équipe
hub-starting = Démarrage…
hub-stop = Arrêter le relais
hub-connect = Enrôler un appareil de l'équipe
hub-connect-help = Sur l'appareil, saisissez l'adresse et le code, ou scannez le code QR. L'appareil vérifie l'empreinte du relais avant d'envoyer quoi que ce soit.
hub-address = Adresse
hub-code = Code (usage unique)
hub-fingerprint = Empreinte
hub-qr-alt = Code QR avec l'adresse du relais et le code d'enrôlement
hub-new-code = Nouveau code
hub-upstream = Synchronisation avec le serveur
hub-sync-now = Synchroniser
hub-upstream-idle = En attente de la prochaine synchronisation.
hub-upstream-syncing = Synchronisation avec le serveur…
hub-upstream-failed = Le serveur est injoignable : { $message }. Le relais réessaiera de lui-même.
hub-upstream-revoked = Le serveur a révoqué ce relais. Ses données ont été effacées.
hub-progress = { $pushed } modifications envoyées sur { $total }, { $received } dossiers reçus
hub-pending = { $count ->
    [0] Rien en attente pour le serveur
    [one] 1 modification en attente pour le serveur
   *[other] { $count } modifications en attente pour le serveur
}
hub-devices = Les appareils de l'équipe
hub-no-devices = Aucun appareil n'est encore enrôlé auprès de ce relais.
hub-device-user = Enrôlé par
hub-device-id = Appareil
hub-device-site = Site
hub-device-last = Dernière synchronisation
hub-device-never = Pas encore synchronisé
hub-device-revoked = Révoqué

## Bundles
bundle-open = Échanger par clé USB ou fichier
bundle-title = Échanger par clé USB ou fichier
bundle-intro = Sans aucun réseau, un fichier transporte le travail : écrivez les modifications de cet appareil sur une clé USB pour le relais ou le serveur, et lisez le fichier qu'ils vous renvoient. Les fichiers sont chiffrés pour leur destinataire et signés ; un fichier modifié ou étranger est refusé.
bundle-usb = Clé USB
bundle-export = Écrire les modifications ici
bundle-import = Lire ce fichier
bundle-no-files = Aucun fichier de lot ici.
bundle-no-places = Aucune clé USB ni dossier trouvé : insérez une clé USB.
bundle-peer = Pour
bundle-writing = Écriture du lot… { $done } pages
bundle-reading = Lecture du lot… { $done } pages sur { $total }
bundle-written = Lot écrit : { $changes } modifications de { $records } dossiers, { $size }.
bundle-read = Lot lu : { $changes } nouvelles modifications dans { $records } dossiers.
bundle-again = Ce lot a déjà été lu ; rien n'a changé.

# Quarantine review (issue 13)
quar-title = Quarantaine
quar-explain = Modifications refusées par le serveur parce que le rôle de leur auteur ne les permet pas. Libérez-en une pour la fusionner malgré tout (par exemple dictée par un clinicien), ou rejetez-la pour l’écarter définitivement. Le serveur enregistre qui a décidé et pourquoi.
quar-empty = Aucune décision en attente.
quar-kind = { $kind }
quar-authors = { $count ->
    [one] 1 modification par { $names }
   *[other] { $count } modifications par { $names }
}
quar-release = Libérer…
quar-reject = Rejeter…
quar-confirm-release = Fusionner { $count } modification(s) en quarantaine de { $names } dans le dossier ? Tous les appareils du site les recevront.
quar-confirm-reject = Écarter définitivement { $count } modification(s) en quarantaine de { $names } ? Elles ne pourront plus jamais être fusionnées.
quar-reason = Motif
quar-reason-hint = Une ligne, pour le journal d’accès : qui l’a demandé, ce que vous avez vérifié. Jamais une donnée de santé.
quar-cancel = Annuler
quar-do-release = Libérer
quar-do-reject = Rejeter
quar-released = Libéré : les modifications de { $doc } sont fusionnées et parviendront aux appareils.
quar-rejected = Rejeté : les modifications de { $doc } restent écartées.

rep-bounded = Les { $shown } premières lignes sur { $total } ; le graphique les compte toutes et le téléchargement CSV les liste toutes.

## Exports (issue 18)
exp-title = Exports
exp-explain = Données pour les autorités sanitaires et les cliniciens d'accueil, par finalité : seuls les dossiers dont le consentement ou la base légale couvre la finalité, pseudonymisés par destinataire. Les données identifiantes et les sections restreintes exigent une demande approuvée par un superviseur des sites. Chaque export est inscrit au journal des accès.
exp-explain-supervisor = Les gestionnaires de données demandent ici des données identifiantes ou des sections restreintes ; un superviseur de chaque site de la demande l'approuve. N'approuvez que ce que la finalité exige.
exp-format = Format
exp-format-csv = CSV (zip, un fichier par version de formulaire)
exp-format-fhir = Bundle FHIR R4 (JSON)
exp-format-fhir-ndjson = Ressources FHIR R4 (NDJSON)
exp-purpose = Finalité
exp-purpose-screening = Dépistage
exp-purpose-share_destination = Partage avec le pays de destination
exp-purpose-research = Recherche
exp-purpose-notifiable_disease = Alerte de maladie à déclaration obligatoire
exp-recipient = Destinataire
exp-no-recipient = Aucun (le fichier n'est pas chiffré)
exp-sites = Sites
exp-all-sites = Aucun coché : tous vos sites.
exp-protection = Au-delà des données pseudonymisées
exp-identified = Données identifiantes
exp-restricted = Sections restreintes
exp-approval = Approbation
exp-no-approval = Aucune
exp-download = Exporter
exp-request = Demander une approbation
exp-progress = { $kib } Kio reçus sur { $count } dossiers
exp-done = { $name } enregistré : { $count } dossiers correspondent au filtre ; ceux dont le consentement ou la base légale ne couvre pas la finalité sont exclus (le résumé de l'export les compte).
exp-requested = La demande { $id } attend l'approbation d'un superviseur.
exp-approved = La demande { $id } est approuvée.
exp-approvals = Approbations
exp-approvals-empty = Aucune demande.
exp-requested-by = demandée par { $name }
exp-approved-by = approuvée par { $name }
exp-approve = Approuver
exp-waiting = Attend un superviseur
