from django.urls import path

from tests.contrib.admin import site

urlpatterns = [path("admin/", site.urls)]
