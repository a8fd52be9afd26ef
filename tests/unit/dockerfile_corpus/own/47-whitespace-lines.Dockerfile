  
FROM busybox


   RUN   echo spaced   
	
