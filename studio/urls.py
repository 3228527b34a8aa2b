from django.urls import path

from studio.views import boards as board_pages
from studio.views import bulk as file_transfers
from studio.views import compare, gallery, generation, library, live, media, people, review, team
from studio.views import notes as note_pages
from studio.views import notifications as notification_pages
from studio.views import sequences as sequence_pages
from studio.views import shares as share_pages
from studio.views import studio as studio_page

app_name = "studio"

urlpatterns = [
    path("", studio_page.dashboard, name="dashboard"),
    path("generations/rows/", studio_page.queue, name="queue"),
    path("pulse/", live.pulse, name="pulse"),
    path("recent/", studio_page.recent, name="recent"),
    path("recent/<int:pk>/", studio_page.take, name="take"),
    path("generations/<int:pk>/settings/", studio_page.settings_of, name="settings"),
    path("gallery/", gallery.gallery_page, name="gallery"),
    path("gallery/selection/", gallery.bulk, name="gallery-bulk"),
    path("batches/<int:pk>/", gallery.batch_detail, name="batch"),
    path("generations/<int:pk>/", generation.generation_detail, name="detail"),
    path("generations/<int:pk>/favourite/", generation.toggle_favourite, name="favourite"),
    path("generations/<int:pk>/delete/", generation.delete_generation, name="delete"),
    path("generations/<int:pk>/video.mp4", generation.generation_video, name="video"),
    path("generations/<int:pk>/cancel/", generation.cancel_generation, name="cancel"),
    path(
        "generations/<int:pk>/submit-again/",
        generation.submit_generation_again,
        name="submit-again",
    ),
    path("generations/<int:pk>/retry/", generation.retry_generation, name="retry"),
    path("review/", review.review_next, name="review-next"),
    path("review/<int:pk>/", review.review, name="review"),
    path("review/<int:pk>/decide/", review.decide, name="review-decide"),
    # --- review notes on a video's timeline: a note at a frame or a range, replies, resolved ---
    path("generations/<int:pk>/notes/", note_pages.add_note, name="notes"),
    path("notes/<int:pk>/reply/", note_pages.reply, name="note-reply"),
    path("notes/<int:pk>/resolve/", note_pages.resolve, name="note-resolve"),
    path("notes/<int:pk>/guests/", note_pages.show_to_guests, name="note-guests"),
    path("ledger/", team.ledger, name="ledger"),
    # --- a person's notifications: e-mail, their webhook, its deliveries ---
    path(
        "settings/notifications/",
        notification_pages.notification_settings,
        name="notifications",
    ),
    path(
        "settings/notifications/secret/",
        notification_pages.new_webhook_secret,
        name="notifications-secret",
    ),
    path("settings/notifications/test/", notification_pages.send_test, name="notifications-test"),
    path(
        "settings/notifications/deliveries/",
        notification_pages.deliveries,
        name="notifications-deliveries",
    ),
    path("studio/resume/", team.resume, name="resume"),
    # --- the team page: people, roles, budgets ---
    path("team/", people.team, name="team"),
    path("team/<int:pk>/role/", people.change_person, {"kind": "role"}, name="team-role"),
    path("team/<int:pk>/budget/", people.change_person, {"kind": "budget"}, name="team-budget"),
    path("team/<int:pk>/active/", people.change_person, {"kind": "active"}, name="team-active"),
    path("media/<path:name>", media.media_file, name="media"),
    path("public/source/<str:token>/", media.source_link, name="source-link"),
    # --- files in and out: thumbnails, the selection as a ZIP, settings from a video ---
    path("thumbnails/<path:name>", media.thumbnail, name="thumbnail"),
    path("gallery/download.zip", file_transfers.download_zip, name="download_zip"),
    path(
        "studio/settings-from-file/",
        file_transfers.settings_from_file,
        name="settings-from-file",
    ),
    # --- libraries (pictures, LoRA presets, prompt presets) and compare ---
    path("library/", library.library, name="library"),
    path("library/pictures/", library.pictures, name="library-pictures"),
    path("library/pictures/<int:pk>/", library.edit_picture, name="library-picture"),
    path(
        "library/pictures/<int:pk>/retire/",
        library.retire_picture,
        name="library-picture-retire",
    ),
    path(
        "library/pictures/<int:pk>/restore/",
        library.restore_picture,
        name="library-picture-restore",
    ),
    path("library/loras/", library.loras, name="library-loras"),
    path("library/loras/new/", library.add_lora, name="library-lora-new"),
    path("library/loras/<int:pk>/", library.edit_lora, name="library-lora"),
    path("library/loras/<int:pk>/retire/", library.retire_lora, name="library-lora-retire"),
    path("library/loras/<int:pk>/restore/", library.restore_lora, name="library-lora-restore"),
    path("library/prompts/", library.prompts, name="library-prompts"),
    path("library/prompts/new/", library.add_prompt, name="library-prompt-new"),
    path("library/prompts/<int:pk>/", library.edit_prompt, name="library-prompt"),
    path(
        "library/prompts/<int:pk>/delete/",
        library.delete_prompt,
        name="library-prompt-delete",
    ),
    path("compare/", compare.compare_page, name="compare"),
    # --- shots and sequences ---
    path("generations/<int:pk>/extend/", sequence_pages.extend, name="extend"),
    path("sequences/", sequence_pages.sequence_list, name="sequences"),
    path("sequences/new/", sequence_pages.new_sequence, name="sequence-new"),
    path("sequences/<int:pk>/", sequence_pages.sequence_editor, name="sequence"),
    path("sequences/<int:pk>/add/", sequence_pages.add_to_sequence, name="sequence-add"),
    path("sequences/<int:pk>/export/", sequence_pages.export_sequence, name="sequence-export"),
    path("sequences/<int:pk>/progress/", sequence_pages.export_progress, name="sequence-progress"),
    path("sequences/<int:pk>/video.mp4", sequence_pages.sequence_video, name="sequence-video"),
    path("sequences/<int:pk>/poster.jpg", sequence_pages.sequence_poster, name="sequence-poster"),
    # --- boards and tags ---
    path("boards/", board_pages.board_list, name="boards"),
    path("boards/<int:pk>/", board_pages.board_page, name="board"),
    path("boards/<int:pk>/edit/", board_pages.edit_board, name="board-edit"),
    path("boards/<int:pk>/items/", board_pages.board_items, name="board-items"),
    path("boards/<int:pk>/delete/", board_pages.delete_board, name="board-delete"),
    path("gallery/selection/board/", board_pages.add_selection_to_board, name="gallery-board"),
    path("gallery/selection/tag/", board_pages.tag_selection, name="gallery-tag"),
    path("generations/<int:pk>/boards/", generation.organise_boards, name="detail-boards"),
    path("generations/<int:pk>/tags/", generation.organise_tags, name="detail-tags"),
    # --- share links: the team's side, then the guest's (no account; see views/shares.py) ---
    path("shares/", share_pages.share_list, name="shares"),
    path("shares/new/", share_pages.new_share, name="share-new"),
    path("shares/<int:pk>/revoke/", share_pages.revoke_share, name="share-revoke"),
    path("s/<str:token>/", share_pages.guest_page, name="share-guest"),
    path("s/<str:token>/password/", share_pages.guest_password, name="share-password"),
    path("s/<str:token>/v/<int:pk>.mp4", share_pages.guest_video, name="share-video"),
    path("s/<str:token>/v/<int:pk>/poster.jpg", share_pages.guest_poster, name="share-poster"),
    path("s/<str:token>/v/<int:pk>/decide/", share_pages.guest_decide, name="share-decide"),
    path("s/<str:token>/v/<int:pk>/notes/", share_pages.guest_note, name="share-note"),
]
