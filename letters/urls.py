from django.urls import path

from letters import views

app_name = "letters"

urlpatterns = [
    path("", views.home, name="home"),
    path("letters/", views.LetterListView.as_view(), name="list"),
    path("letters/<slug:slug>/", views.letter_detail, name="detail"),
    path("letters/<slug:slug>/share.png", views.share_image, name="share_image"),
    path("recipients/", views.recipient_list, name="recipient_list"),
    path("recipients/<slug:slug>/", views.recipient_detail, name="recipient_detail"),
]
