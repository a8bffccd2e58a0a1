from django.urls import path

from letters import views

app_name = "letters"

urlpatterns = [
    path("", views.home, name="home"),
    path("letters/", views.LetterListView.as_view(), name="list"),
    path("letters/<slug:slug>/", views.letter_detail, name="detail"),
    path("recipients/", views.recipient_list, name="recipient_list"),
    path("recipients/<slug:slug>/", views.recipient_detail, name="recipient_detail"),
]
