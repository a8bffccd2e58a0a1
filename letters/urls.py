from django.urls import path

from letters import embeds, feeds, views

app_name = "letters"

urlpatterns = [
    path("", views.home, name="home"),
    path("letters/", views.LetterListView.as_view(), name="list"),
    path("letters/<slug:slug>/", views.letter_detail, name="detail"),
    path("letters/<slug:slug>/share.png", views.share_image, name="share_image"),
    path("recipients/", views.recipient_list, name="recipient_list"),
    path("recipients/<slug:slug>/", views.recipient_detail, name="recipient_detail"),
    # Feeds and embeds (letters/feeds.py, letters/embeds.py). The site's feed is not
    # letters/feed/, which a letter slugged "feed" would own.
    path("feeds/letters/", feeds.new_letters, name="feed"),
    path("letters/<slug:slug>/feed/", feeds.letter_updates, name="letter_feed"),
    path("recipients/<slug:slug>/feed/", feeds.recipient_answers, name="recipient_feed"),
    path("letters/<slug:slug>/embed/", embeds.letter_embed, name="embed"),
    path("oembed/", embeds.oembed, name="oembed"),
]
